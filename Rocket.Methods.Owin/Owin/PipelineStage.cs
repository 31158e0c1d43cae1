namespace Owin;

/// <summary>The IIS integrated pipeline stages Katana's stage markers named. Rocket has one stage; markers are accepted and ignored.</summary>
public enum PipelineStage
{
    /// <summary>Authenticate.</summary>
    Authenticate = 0,

    /// <summary>PostAuthenticate.</summary>
    PostAuthenticate = 1,

    /// <summary>Authorize.</summary>
    Authorize = 2,

    /// <summary>PostAuthorize.</summary>
    PostAuthorize = 3,

    /// <summary>ResolveCache.</summary>
    ResolveCache = 4,

    /// <summary>PostResolveCache.</summary>
    PostResolveCache = 5,

    /// <summary>MapHandler.</summary>
    MapHandler = 6,

    /// <summary>PostMapHandler.</summary>
    PostMapHandler = 7,

    /// <summary>AcquireState.</summary>
    AcquireState = 8,

    /// <summary>PostAcquireState.</summary>
    PostAcquireState = 9,

    /// <summary>PreHandlerExecute.</summary>
    PreHandlerExecute = 10,
}
