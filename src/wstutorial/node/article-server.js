// The article's WebSocket server, as written there, with two changes so that a class can share a
// machine: the port comes from PORT (wstutorial picks a free one) and it listens on loopback only.
const WebSocket = require('ws');

const port = Number(process.env.PORT || 8080);
const wss = new WebSocket.Server({ host: process.env.HOST || '127.0.0.1', port });

wss.on('connection', (ws) => {
    console.log('Client connected');
    ws.on('message', (message) => {
        console.log(`Received: ${message}`);
        // Mengirim respon balik ke klien
        ws.send(`Server: ${message}`);
    });
});

console.log(`WebSocket server is running on ws://localhost:${port}`);
