namespace Owin;

/// <summary>Katana's <c>UseStageMarker</c>: meaningful only under IIS; here a no-op kept so Startup classes compile.</summary>
public static class PipelineStageExtensions
{
    /// <summary>Accepted and ignored (Rocket runs the whole pipeline in one stage).</summary>
    public static IAppBuilder UseStageMarker(this IAppBuilder app, string stageName)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(stageName);
        return Enum.TryParse<PipelineStage>(stageName, ignoreCase: true, out _)
            ? app
            : throw new ArgumentException($"'{stageName}' is not a pipeline stage.", nameof(stageName));
    }

    /// <summary>Accepted and ignored (Rocket runs the whole pipeline in one stage).</summary>
    public static IAppBuilder UseStageMarker(this IAppBuilder app, PipelineStage stage)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app;
    }
}
