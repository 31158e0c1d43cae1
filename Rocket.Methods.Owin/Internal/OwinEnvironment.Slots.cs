namespace RocketOwin.Methods.Owin.Internal;

/// <summary>The slot table: one index per well-known key.</summary>
internal sealed partial class OwinEnvironment
{
    private const int RequestBodySlot = 0;
    private const int RequestHeadersSlot = 1;
    private const int RequestMethodSlot = 2;
    private const int RequestPathSlot = 3;
    private const int RequestPathBaseSlot = 4;
    private const int RequestProtocolSlot = 5;
    private const int RequestQueryStringSlot = 6;
    private const int RequestSchemeSlot = 7;
    private const int RequestIdSlot = 8;
    private const int ResponseBodySlot = 9;
    private const int ResponseHeadersSlot = 10;
    private const int ResponseStatusCodeSlot = 11;
    private const int ResponseReasonPhraseSlot = 12;
    private const int ResponseProtocolSlot = 13;
    private const int CallCancelledSlot = 14;
    private const int VersionSlot = 15;
    private const int RemoteIpAddressSlot = 16;
    private const int RemotePortSlot = 17;
    private const int LocalIpAddressSlot = 18;
    private const int LocalPortSlot = 19;
    private const int IsLocalSlot = 20;
    private const int OnSendingHeadersSlot = 21;
    private const int CapabilitiesSlot = 22;
    private const int TraceOutputSlot = 23;
    private const int OnAppDisposingSlot = 24;
    private const int ClientCertificateSlot = 25;
    private const int SendFileAsyncSlot = 26;
    private const int SlotCount = 27;

    /// <summary>
    /// Present on every request (status and reason phrase are tracked live, the certificate only with TLS client auth;
    /// owin.ResponseProtocol is optional in OWIN 1.0 §3.2.2 and left for the app to add, as Katana's hosts did).
    /// </summary>
    private const uint AlwaysPresent = ((1u << SlotCount) - 1) & ~(1u << ResponseStatusCodeSlot) & ~(1u << ResponseReasonPhraseSlot) & ~(1u << ClientCertificateSlot) & ~(1u << ResponseProtocolSlot);

    private static readonly string[] SlotNames =
    [
        OwinKeys.RequestBody,
        OwinKeys.RequestHeaders,
        OwinKeys.RequestMethod,
        OwinKeys.RequestPath,
        OwinKeys.RequestPathBase,
        OwinKeys.RequestProtocol,
        OwinKeys.RequestQueryString,
        OwinKeys.RequestScheme,
        OwinKeys.RequestId,
        OwinKeys.ResponseBody,
        OwinKeys.ResponseHeaders,
        OwinKeys.ResponseStatusCode,
        OwinKeys.ResponseReasonPhrase,
        OwinKeys.ResponseProtocol,
        OwinKeys.CallCancelled,
        OwinKeys.Version,
        OwinKeys.RemoteIpAddress,
        OwinKeys.RemotePort,
        OwinKeys.LocalIpAddress,
        OwinKeys.LocalPort,
        OwinKeys.IsLocal,
        OwinKeys.OnSendingHeaders,
        OwinKeys.Capabilities,
        OwinKeys.TraceOutput,
        OwinKeys.OnAppDisposing,
        OwinKeys.ClientCertificate,
        OwinKeys.SendFileAsync,
    ];

    private static uint Bit(int slot) => 1u << slot;

    /// <summary>The slot of a well-known key (OWIN keys are case-sensitive), or -1.</summary>
    private static int SlotOf(string key) => key switch
    {
        OwinKeys.RequestBody => RequestBodySlot,
        OwinKeys.RequestHeaders => RequestHeadersSlot,
        OwinKeys.RequestMethod => RequestMethodSlot,
        OwinKeys.RequestPath => RequestPathSlot,
        OwinKeys.RequestPathBase => RequestPathBaseSlot,
        OwinKeys.RequestProtocol => RequestProtocolSlot,
        OwinKeys.RequestQueryString => RequestQueryStringSlot,
        OwinKeys.RequestScheme => RequestSchemeSlot,
        OwinKeys.RequestId => RequestIdSlot,
        OwinKeys.ResponseBody => ResponseBodySlot,
        OwinKeys.ResponseHeaders => ResponseHeadersSlot,
        OwinKeys.ResponseStatusCode => ResponseStatusCodeSlot,
        OwinKeys.ResponseReasonPhrase => ResponseReasonPhraseSlot,
        OwinKeys.ResponseProtocol => ResponseProtocolSlot,
        OwinKeys.CallCancelled => CallCancelledSlot,
        OwinKeys.Version => VersionSlot,
        OwinKeys.RemoteIpAddress => RemoteIpAddressSlot,
        OwinKeys.RemotePort => RemotePortSlot,
        OwinKeys.LocalIpAddress => LocalIpAddressSlot,
        OwinKeys.LocalPort => LocalPortSlot,
        OwinKeys.IsLocal => IsLocalSlot,
        OwinKeys.OnSendingHeaders => OnSendingHeadersSlot,
        OwinKeys.Capabilities => CapabilitiesSlot,
        OwinKeys.TraceOutput => TraceOutputSlot,
        OwinKeys.OnAppDisposing => OnAppDisposingSlot,
        OwinKeys.ClientCertificate => ClientCertificateSlot,
        OwinKeys.SendFileAsync => SendFileAsyncSlot,
        _ => -1,
    };
}
