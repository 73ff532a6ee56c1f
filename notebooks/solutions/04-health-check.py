from wstutorial.page import chat_page

page = chat_page()


def with_health_check(connection, request):
    # A monitor asks "are you alive?" with a plain GET; answer it here, before the page.
    # Monitor bertanya "masih hidup?" dengan GET biasa; jawab di sini, sebelum halaman.
    if request.path == "/health":
        return connection.respond(200, "OK\n")
    # Everything else, WebSocket handshakes included, goes on to the page as before.
    # Selain itu, termasuk handshake WebSocket, diteruskan ke halaman seperti sebelumnya.
    return page(connection, request)
