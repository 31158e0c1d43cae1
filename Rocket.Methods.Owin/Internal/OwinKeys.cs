namespace RocketOwin.Methods.Owin.Internal;

/// <summary>The environment and properties keys of OWIN 1.0 and its common extensions (owin.org, spec/owin-1.0.0).</summary>
internal static class OwinKeys
{
    public const string RequestBody = "owin.RequestBody";
    public const string RequestHeaders = "owin.RequestHeaders";
    public const string RequestMethod = "owin.RequestMethod";
    public const string RequestPath = "owin.RequestPath";
    public const string RequestPathBase = "owin.RequestPathBase";
    public const string RequestProtocol = "owin.RequestProtocol";
    public const string RequestQueryString = "owin.RequestQueryString";
    public const string RequestScheme = "owin.RequestScheme";
    public const string RequestId = "owin.RequestId";
    public const string ResponseBody = "owin.ResponseBody";
    public const string ResponseHeaders = "owin.ResponseHeaders";
    public const string ResponseStatusCode = "owin.ResponseStatusCode";
    public const string ResponseReasonPhrase = "owin.ResponseReasonPhrase";
    public const string ResponseProtocol = "owin.ResponseProtocol";
    public const string CallCancelled = "owin.CallCancelled";
    public const string Version = "owin.Version";
    public const string RemoteIpAddress = "server.RemoteIpAddress";
    public const string RemotePort = "server.RemotePort";
    public const string LocalIpAddress = "server.LocalIpAddress";
    public const string LocalPort = "server.LocalPort";
    public const string IsLocal = "server.IsLocal";
    public const string OnSendingHeaders = "server.OnSendingHeaders";
    public const string Capabilities = "server.Capabilities";
    public const string ServerName = "server.Name";
    public const string User = "server.User";
    public const string TraceOutput = "host.TraceOutput";
    public const string OnAppDisposing = "host.OnAppDisposing";
    public const string Addresses = "host.Addresses";
    public const string AppName = "host.AppName";
    public const string ClientCertificate = "ssl.ClientCertificate";
    public const string SendFileAsync = "sendfile.SendAsync";
    public const string SendFileVersion = "sendfile.Version";
    public const string SendFileSupport = "sendfile.Support";
    public const string BuilderDefaultApp = "builder.DefaultApp";
    public const string BuilderAddSignatureConversion = "builder.AddSignatureConversion";
    public const string OwinVersion = "1.0";
}
