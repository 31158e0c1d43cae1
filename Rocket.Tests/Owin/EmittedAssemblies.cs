using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.Loader;
using Microsoft.Owin;
using Owin;

namespace RocketOwin.Tests.Owin;

/// <summary>
/// Small assemblies written at test time with PersistedAssemblyBuilder, so app-loading tests need no MSBuild run:
/// an app DLL whose Startup uses Katana's surface (compiled against this very Rocket.Methods.Owin) and a dependency
/// DLL next to it that only the app's folder can supply.
/// </summary>
internal static class EmittedAssemblies
{
    private static int _counter;

    public static string NewFolder()
    {
        var folder = Path.Combine(Path.GetTempPath(), "rocket-owin-app-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>Writes DepN.dll and AppN.dll into <paramref name="folder"/>; AppN.Startup answers "hello from DepN". Returns the app's path.</summary>
    public static string WriteApp(string folder, out string expectedBody)
    {
        var n = Interlocked.Increment(ref _counter) + "x" + Environment.ProcessId;
        var depName = "RocketOwinTestDep" + n;
        var appName = "RocketOwinTestApp" + n;
        expectedBody = "hello from " + depName;

        var dep = new PersistedAssemblyBuilder(new AssemblyName(depName), typeof(object).Assembly);
        var depType = dep.DefineDynamicModule(depName).DefineType(depName + ".Greeter", TypeAttributes.Public | TypeAttributes.Abstract | TypeAttributes.Sealed);
        var greet = depType.DefineMethod("Greeting", MethodAttributes.Public | MethodAttributes.Static, typeof(string), Type.EmptyTypes);
        var il = greet.GetILGenerator();
        il.Emit(OpCodes.Ldstr, expectedBody);
        il.Emit(OpCodes.Ret);
        depType.CreateType();
        var depPath = Path.Combine(folder, depName + ".dll");
        dep.Save(depPath);

        // A runtime MethodInfo for the dependency, from a throw-away context, so the app references it by name only.
        var scratch = new AssemblyLoadContext("scratch", isCollectible: true);
        var greeting = scratch.LoadFromStream(new MemoryStream(File.ReadAllBytes(depPath))).GetType(depName + ".Greeter")!.GetMethod("Greeting")!;

        var appPath = WriteStartupApp(folder, appName, il => il.Emit(OpCodes.Call, greeting));
        scratch.Unload();
        return appPath;
    }

    /// <summary>
    /// Writes <paramref name="folder"/>/<paramref name="appName"/>.dll: a Katana Startup whose Configuration runs
    /// <c>app.Run(Handle)</c> (or throws <paramref name="configurationThrows"/> when given), where Handle writes the string
    /// that <paramref name="pushBody"/> leaves on the stack. Returns the DLL's path.
    /// </summary>
    public static string WriteStartupApp(string folder, string appName, Action<ILGenerator> pushBody, string? configurationThrows = null)
    {
        var app = new PersistedAssemblyBuilder(new AssemblyName(appName), typeof(object).Assembly);
        var startup = app.DefineDynamicModule(appName).DefineType(appName + ".Startup", TypeAttributes.Public | TypeAttributes.Class);
        startup.DefineDefaultConstructor(MethodAttributes.Public);

        var handle = startup.DefineMethod("Handle", MethodAttributes.Public | MethodAttributes.Static, typeof(Task), [typeof(IOwinContext)]);
        var il = handle.GetILGenerator();
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Callvirt, typeof(IOwinContext).GetProperty(nameof(IOwinContext.Response))!.GetMethod!);
        pushBody(il);
        il.Emit(OpCodes.Callvirt, typeof(IOwinResponse).GetMethod(nameof(IOwinResponse.WriteAsync), [typeof(string)])!);
        il.Emit(OpCodes.Ret);

        var configuration = startup.DefineMethod("Configuration", MethodAttributes.Public, typeof(void), [typeof(IAppBuilder)]);
        il = configuration.GetILGenerator();
        if (configurationThrows is not null)
        {
            il.Emit(OpCodes.Ldstr, configurationThrows);
            il.Emit(OpCodes.Newobj, typeof(InvalidOperationException).GetConstructor([typeof(string)])!);
            il.Emit(OpCodes.Throw);
        }
        else
        {
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldnull);
            il.Emit(OpCodes.Ldftn, handle);
            il.Emit(OpCodes.Newobj, typeof(Func<IOwinContext, Task>).GetConstructor([typeof(object), typeof(IntPtr)])!);
            il.Emit(OpCodes.Call, typeof(AppBuilderUseExtensions).GetMethod(nameof(AppBuilderUseExtensions.Run))!);
            il.Emit(OpCodes.Ret);
        }

        startup.CreateType();
        var path = Path.Combine(folder, appName + ".dll");
        app.Save(path);
        return path;
    }

    /// <summary>An in-memory assembly holding classes with the given full names, each with Configuration(IAppBuilder).</summary>
    public static Assembly WithStartupClasses(string assemblyName, params string[] typeNames)
    {
        var assembly = AssemblyBuilder.DefineDynamicAssembly(new AssemblyName(assemblyName), AssemblyBuilderAccess.RunAndCollect);
        var module = assembly.DefineDynamicModule(assemblyName);
        foreach (var name in typeNames)
        {
            var type = module.DefineType(name, TypeAttributes.Public | TypeAttributes.Class);
            type.DefineDefaultConstructor(MethodAttributes.Public);
            var method = type.DefineMethod("Configuration", MethodAttributes.Public, typeof(void), [typeof(IAppBuilder)]);
            method.GetILGenerator().Emit(OpCodes.Ret);
            type.CreateType();
        }

        return assembly;
    }

    /// <summary>An in-memory assembly carrying [assembly: OwinStartup(...)] attributes for the given types.</summary>
    public static Assembly WithStartupAttributes(string assemblyName, params (string FriendlyName, Type Type)[] startups)
    {
        var ctor = typeof(OwinStartupAttribute).GetConstructor([typeof(string), typeof(Type)])!;
        var attributes = startups.Select(s => new CustomAttributeBuilder(ctor, [s.FriendlyName, s.Type])).ToArray();
        var assembly = AssemblyBuilder.DefineDynamicAssembly(new AssemblyName(assemblyName), AssemblyBuilderAccess.RunAndCollect, attributes);
        assembly.DefineDynamicModule(assemblyName);
        return assembly;
    }
}
