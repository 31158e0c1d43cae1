namespace Microsoft.Owin;

/// <summary>The parsed fields of a form post.</summary>
public class FormCollection : ReadableStringCollection, IFormCollection
{
    /// <summary>Wraps <paramref name="store"/>.</summary>
    public FormCollection(IDictionary<string, string[]> store)
        : base(store)
    {
    }
}
