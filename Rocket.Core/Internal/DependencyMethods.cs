using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace RocketOwin.Internal;

/// <summary>A method declared by one of the application's dependencies: its name (or alias), the worker's type name and the declaring assembly.</summary>
internal sealed record DependencyMethod(string Name, string WorkerType, string AssemblyName, string File);

/// <summary>
/// The methods declared (<see cref="RocketMethodAttribute"/>) by the assemblies the application depends on: the ones
/// the default load context resolves from the application's <c>.deps.json</c> (the runtime's
/// <c>TRUSTED_PLATFORM_ASSEMBLIES</c>; an application without one gets every DLL next to it), less the shared
/// framework. This is how an application that references a method package but never touches one of its types gets the
/// method by name.
/// </summary>
/// <remarks>
/// Read once per process, from metadata only (System.Reflection.Metadata): nothing is loaded until a method is asked
/// for by name, and an assembly that does not reference Rocket.Core is rejected after reading its reference table.
/// </remarks>
internal static class DependencyMethods
{
    private const string ContractAssembly = "Rocket.Core";
    private static readonly Lazy<(IReadOnlyList<DependencyMethod> Methods, string Source)> Declared = new(Scan);

    /// <summary>Every declaration, in the order the application lists its dependencies.</summary>
    public static IReadOnlyList<DependencyMethod> All => Declared.Value.Methods;

    /// <summary>Where the dependencies were listed, for the unknown-method message.</summary>
    public static string Source => Declared.Value.Source;

    private static (IReadOnlyList<DependencyMethod> Methods, string Source) Scan()
    {
        var (files, source) = ApplicationAssemblies();
        return (files.SelectMany(Read).ToList(), source);
    }

    private static (List<string> Files, string Source) ApplicationAssemblies()
    {
        // The framework's assemblies (and other shared frameworks, such as ASP.NET Core's) sit under <dotnet>/shared/.
        var frameworkDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location);
        var sharedRoot = frameworkDirectory is null ? null : Path.GetDirectoryName(Path.GetDirectoryName(frameworkDirectory));
        var listed = AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string;
        var fromDeps = !string.IsNullOrEmpty(listed);
        var candidates = fromDeps
            ? listed!.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            : Directory.Exists(AppContext.BaseDirectory) ? Directory.GetFiles(AppContext.BaseDirectory, "*.dll") : [];
        var files = candidates
            .Where(f => sharedRoot is null || !f.StartsWith(sharedRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .Where(f => !string.Equals(Path.GetFileNameWithoutExtension(f), ContractAssembly, StringComparison.OrdinalIgnoreCase))
            .ToList();
        return (files, fromDeps ? "the application's dependencies (its .deps.json)" : $"the DLLs next to the application ({AppContext.BaseDirectory})");
    }

    private static List<DependencyMethod> Read(string file)
    {
        var result = new List<DependencyMethod>();
        try
        {
            using var stream = File.OpenRead(file);
            using var pe = new PEReader(stream);
            if (!pe.HasMetadata)
            {
                return result;
            }

            var reader = pe.GetMetadataReader();
            if (!reader.IsAssembly || !ReferencesContract(reader))
            {
                return result;
            }

            var assemblyName = reader.GetString(reader.GetAssemblyDefinition().Name);
            foreach (var handle in reader.GetAssemblyDefinition().GetCustomAttributes())
            {
                var attribute = reader.GetCustomAttribute(handle);
                if (!IsRocketMethod(reader, attribute))
                {
                    continue;
                }

                var value = attribute.DecodeValue(TypeNames.Instance);
                if (value.FixedArguments is not [{ Value: string name }, var workerType])
                {
                    continue;
                }

                // A typeof() argument is stored as its assembly-qualified name; the part before the first comma names the type.
                var worker = (workerType.Value as string)?.Split(',')[0] ?? "?";
                result.Add(new DependencyMethod(name, worker, assemblyName, file));
                foreach (var named in value.NamedArguments)
                {
                    if (named.Name == nameof(RocketMethodAttribute.Aliases) && named.Value is ImmutableArray<CustomAttributeTypedArgument<string>> aliases)
                    {
                        result.AddRange(aliases.Select(a => a.Value).OfType<string>().Select(a => new DependencyMethod(a, worker, assemblyName, file)));
                    }
                }
            }
        }
        catch (Exception e) when (e is BadImageFormatException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // Not a readable .NET assembly: it cannot declare a method. (A broken method assembly still fails loudly
            // once it is asked for, through the plugins folder or when its types are used.)
            result.Clear();
        }

        return result;
    }

    private static bool ReferencesContract(MetadataReader reader)
        => reader.AssemblyReferences.Any(h => reader.StringComparer.Equals(reader.GetAssemblyReference(h).Name, ContractAssembly));

    private static bool IsRocketMethod(MetadataReader reader, CustomAttribute attribute)
    {
        if (attribute.Constructor.Kind != HandleKind.MemberReference)
        {
            return false;
        }

        var parent = reader.GetMemberReference((MemberReferenceHandle)attribute.Constructor).Parent;
        if (parent.Kind != HandleKind.TypeReference)
        {
            return false;
        }

        var type = reader.GetTypeReference((TypeReferenceHandle)parent);
        return reader.StringComparer.Equals(type.Name, nameof(RocketMethodAttribute))
            && reader.StringComparer.Equals(type.Namespace, typeof(RocketMethodAttribute).Namespace!)
            && type.ResolutionScope.Kind == HandleKind.AssemblyReference
            && reader.StringComparer.Equals(reader.GetAssemblyReference((AssemblyReferenceHandle)type.ResolutionScope).Name, ContractAssembly);
    }

    /// <summary>Names the types in an attribute's blob; only strings, string arrays and System.Type occur in RocketMethod.</summary>
    private sealed class TypeNames : ICustomAttributeTypeProvider<string>
    {
        public static readonly TypeNames Instance = new();

        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode.ToString();

        public string GetSystemType() => "System.Type";

        public string GetSZArrayType(string elementType) => elementType + "[]";

        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind)
        {
            var type = reader.GetTypeDefinition(handle);
            return reader.GetString(type.Namespace) + "." + reader.GetString(type.Name);
        }

        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind)
        {
            var type = reader.GetTypeReference(handle);
            return reader.GetString(type.Namespace) + "." + reader.GetString(type.Name);
        }

        public string GetTypeFromSerializedName(string name) => name;

        public PrimitiveTypeCode GetUnderlyingEnumType(string type) => throw new BadImageFormatException($"unexpected enum {type} in a RocketMethod attribute");

        public bool IsSystemType(string type) => type == "System.Type";
    }
}
