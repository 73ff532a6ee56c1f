async def greeter(websocket):
    # The server speaks first: nobody asked, and the client still receives it.
    # Server berbicara lebih dulu: tidak ada yang meminta, dan klien tetap menerimanya.
    await websocket.send("Welcome! / Selamat datang!")
    async for message in websocket:
        await websocket.send(f"Server: {message}")
