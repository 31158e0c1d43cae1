namespace Owin;

/// <summary>Katana's typed <c>Build</c> and signature-conversion helpers.</summary>
public static class AppBuilderExtensions
{
    /// <summary>Builds the pipeline as an OWIN AppFunc.</summary>
    public static Func<IDictionary<string, object>, Task> Build(this IAppBuilder builder) => builder.Build<Func<IDictionary<string, object>, Task>>();

    /// <summary>Builds the pipeline as <typeparamref name="TApp"/>.</summary>
    public static TApp Build<TApp>(this IAppBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return (TApp)builder.Build(typeof(TApp));
    }

    /// <summary>Teaches the builder to convert between two component signatures (a one-parameter delegate).</summary>
    public static void AddSignatureConversion(this IAppBuilder builder, Delegate conversion)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(conversion);
        if (builder.Properties.TryGetValue("builder.AddSignatureConversion", out var value) && value is Action<Delegate> add)
        {
            add(conversion);
            return;
        }

        throw new MissingMethodException(builder.GetType().FullName, "AddSignatureConversion");
    }

    /// <summary>Teaches the builder to convert <typeparamref name="T1"/> to <typeparamref name="T2"/>.</summary>
    public static void AddSignatureConversion<T1, T2>(this IAppBuilder builder, Func<T1, T2> conversion)
        => AddSignatureConversion(builder, (Delegate)conversion);
}
