namespace RocketOwin;

/// <summary>
/// The appInfo holds a key its method does not read (a typo such as <c>display_idx</c>, or a key meant for another
/// method). Thrown by <see cref="Rocket.Start"/> when the worker declares <see cref="Worker.AppInfoKeys"/>.
/// <see cref="ArgumentException.ParamName"/> is the key.
/// </summary>
/// <remarks>
/// The parts are kept apart so a host can word the error in its own terms: the <c>rocket</c> command names the flag the
/// user typed (<c>--set display_idx=true</c>) followed by <see cref="Problem"/>.
/// </remarks>
public sealed class UnknownAppInfoKeyException : ArgumentException
{
    /// <summary>Creates the exception for <paramref name="key"/>.</summary>
    /// <param name="key">The unknown key.</param>
    /// <param name="problem">What is wrong, without the key: "not a setting of method 'static'; did you mean display_index? (its settings: ...)".</param>
    public UnknownAppInfoKeyException(string key, string problem)
        : base($"appInfo[\"{key}\"]: {problem}.", key)
    {
        Key = key;
        Problem = problem;
    }

    /// <summary>Creates the exception with a message only (prefer the main constructor).</summary>
    public UnknownAppInfoKeyException()
        : this(string.Empty, "unknown key")
    {
    }

    /// <summary>Creates the exception with a message only (prefer the main constructor).</summary>
    /// <param name="message">The message.</param>
    public UnknownAppInfoKeyException(string message)
        : this(string.Empty, message)
    {
    }

    /// <summary>Creates the exception with a message and a cause (prefer the main constructor).</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public UnknownAppInfoKeyException(string message, Exception innerException)
        : base(message, innerException)
    {
        Key = string.Empty;
        Problem = message;
    }

    /// <summary>The unknown key.</summary>
    public string Key { get; }

    /// <summary>What is wrong, worded without the key.</summary>
    public string Problem { get; }
}
