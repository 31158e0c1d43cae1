namespace Chat;

/// <summary>The chat page: connects to /chat with the name given, shows what everyone says.</summary>
internal static class Page
{
    public const string Html = """
        <!doctype html>
        <html><head><meta charset="utf-8"><title>Rocket.Owin chat</title>
        <style>body{font:15px system-ui;margin:2em;max-width:40em}#log{border:1px solid #ccc;height:20em;overflow:auto;padding:.5em;white-space:pre-wrap}</style>
        </head><body>
        <h1>Chat</h1>
        <p><input id="name" placeholder="your name"> <button id="join">Join</button></p>
        <div id="log"></div>
        <form id="form"><input id="text" size="50" autocomplete="off" disabled> <button disabled id="send">Send</button></form>
        <script>
        const log = document.getElementById('log'), text = document.getElementById('text'), send = document.getElementById('send');
        let socket;
        function show(line) { log.textContent += line + '\n'; log.scrollTop = log.scrollHeight; }
        document.getElementById('join').onclick = () => {
          const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/chat?name=' + encodeURIComponent(document.getElementById('name').value || 'guest');
          socket = new WebSocket(url);
          socket.onopen = () => { text.disabled = send.disabled = false; text.focus(); };
          socket.onmessage = e => show(e.data);
          socket.onclose = e => { show('* disconnected (' + e.code + ')'); text.disabled = send.disabled = true; };
        };
        document.getElementById('form').onsubmit = e => { e.preventDefault(); if (text.value) { socket.send(text.value); text.value = ''; } };
        </script>
        </body></html>
        """;
}
