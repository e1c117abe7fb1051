// The original client: plain text on /ws, to the host that served this page.
const wsUrl = location.protocol.startsWith("http")
  ? `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`
  : "ws://localhost:8765/ws";
const socket = new WebSocket(wsUrl);
socket.onopen = () => console.log("Conexão WebSocket aberta.");
socket.onmessage = (event) => {
  const item = document.createElement("li");
  item.textContent = event.data;
  document.getElementById("messages").appendChild(item);
};
socket.onclose = () => console.log("Conexão WebSocket fechada.");
socket.onerror = (error) => console.error("Erro no WebSocket: ", error);
function sendMessage() {
  const input = document.getElementById("messageInput");
  socket.send(input.value);
  input.value = "";
}
window.sendMessage = sendMessage;
document.getElementById("sendButton").addEventListener("click", sendMessage);
