namespace Microsoft.Owin;

/// <summary>The fields of an <c>application/x-www-form-urlencoded</c> request body.</summary>
public interface IFormCollection : IReadableStringCollection
{
}
