"""A local stand-in for a LiveKit server (dev and tests only): RoomService over Twirp with protobuf bodies, as
livekit-api calls it, rooms that clients join with real participant tokens, and webhooks signed as a LiveKit
server signs them."""
