// LiveKit's Node server SDK against the LiveKit stand-in: reads one JSON command on stdin, prints one JSON answer.
//   {"op": "rooms", "host", "key", "secret"}                        -> {"rooms": [{name, numParticipants}]}
//   {"op": "participants", "host", "key", "secret", "room"}         -> {"identities": [...]} or {"error": code}
//   {"op": "remove", "host", "key", "secret", "room", "identity"}   -> {} or {"error": code}
//   {"op": "delete", "host", "key", "secret", "room"}               -> {} or {"error": code}
//   {"op": "webhook", "key", "secret", "body", "auth"}              -> {"event", "room", "identity"} or {"error"}
// The SDK is found by NODE_PATH (installed by deploy/dev/tools.py's npm_package, never committed).
const { RoomServiceClient, WebhookReceiver } = require("livekit-server-sdk");

async function run(command) {
  if (command.op === "webhook") {
    const event = await new WebhookReceiver(command.key, command.secret).receive(command.body, command.auth);
    return { event: event.event, room: event.room?.name ?? null, identity: event.participant?.identity ?? null };
  }
  const rooms = new RoomServiceClient(command.host, command.key, command.secret);
  switch (command.op) {
    case "rooms":
      return { rooms: (await rooms.listRooms()).map((room) => ({ name: room.name, numParticipants: room.numParticipants })) };
    case "participants":
      return { identities: (await rooms.listParticipants(command.room)).map((p) => p.identity) };
    case "remove":
      await rooms.removeParticipant(command.room, command.identity);
      return {};
    case "delete":
      await rooms.deleteRoom(command.room);
      return {};
    default:
      throw new Error(`unknown op ${command.op}`);
  }
}

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  run(JSON.parse(input))
    .then((answer) => console.log(JSON.stringify(answer)))
    .catch((error) => console.log(JSON.stringify({ error: error.code ?? error.name ?? "error", message: String(error.message) })));
});
