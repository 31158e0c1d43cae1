using RocketOwin;
using RocketOwin.Methods.Proxy;

[assembly: RocketMethod("proxy", typeof(ProxyWorker))]
