namespace RocketOwin.Methods.Owin.Internal;

/// <summary>Boxes shared by every request, so reading owin.ResponseStatusCode or server.IsLocal allocates nothing.</summary>
internal static class BoxedValues
{
    public static readonly object True = true;
    public static readonly object False = false;

    private static readonly object[] StatusCodes = CreateStatusCodes();

    public static object Status(int code) => (uint)code < (uint)StatusCodes.Length ? StatusCodes[code] : code;

    public static object Bool(bool value) => value ? True : False;

    private static object[] CreateStatusCodes()
    {
        var boxes = new object[1000];
        for (var i = 0; i < boxes.Length; i++)
        {
            boxes[i] = i;
        }

        return boxes;
    }
}
