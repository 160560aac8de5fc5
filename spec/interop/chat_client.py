"""A chat client on Google's protobuf runtime (Debian's python3-protobuf) that shares no code with
the server, for spec/interop/python-client.spec.ts. chat_pb2 is generated at test time:

    protoc --proto_path=proto --python_out=DIR chat.proto
    PYTHONPATH=DIR /usr/bin/python3 spec/interop/chat_client.py echo PORT < messages.json
    PYTHONPATH=DIR /usr/bin/python3 spec/interop/chat_client.py refused PORT

echo: joins, sends the ChatMessages given on stdin (a JSON list of {"from", "to", "msg"}) in one
write, reads their echoes and checks each one. refused: joins, then, while that connection holds
the only place of a server started with --max-clients 1, connects again and reads until the
server closes. Either prints one JSON report on stdout, int64 values as decimal strings since JSON
numbers cannot hold them, with the problems it found; it exits 1 when it cannot finish at all.
"""

import argparse
import json
import socket
import sys

import chat_pb2

# Small on purpose: the server's frames then arrive split across reads, which FrameReader joins.
RECV_BYTES = 5
# Only a bound for a server that never answers: every read is answered long before.
SOCKET_TIMEOUT_SECONDS = 5
MAX_VARINT_BYTES = 10


class ClientError(Exception):
    pass


def varint(value):
    encoded = bytearray()
    while value > 0x7F:
        encoded.append(value & 0x7F | 0x80)
        value >>= 7
    encoded.append(value)
    return bytes(encoded)


def frame_of(message):
    body = message.SerializeToString()
    return varint(len(body)) + body


def split_varint(buffer):
    """(value, its length in bytes) of the varint at the start of buffer; None if it is incomplete."""
    value = 0
    for position, byte in enumerate(buffer[:MAX_VARINT_BYTES]):
        value |= (byte & 0x7F) << (7 * position)
        if byte < 0x80:
            return value, position + 1
    if len(buffer) >= MAX_VARINT_BYTES:
        raise ClientError("a frame length longer than a varint can be")
    return None


class FrameReader:
    """The length-prefixed frames arriving on a socket, however they are split across reads."""

    def __init__(self, connection):
        self.connection = connection
        self.buffer = bytearray()

    def next_frame(self):
        """The next frame's message bytes; None once the server has closed between two frames."""
        while True:
            frame = self.frame_in_buffer()
            if frame is not None:
                return frame
            chunk = self.connection.recv(RECV_BYTES)
            if not chunk:
                if self.buffer:
                    raise ClientError(f"the server closed inside a frame: {self.buffer.hex()}")
                return None
            self.buffer += chunk

    def frame_in_buffer(self):
        prefix = split_varint(self.buffer)
        if prefix is None:
            return None
        length, start = prefix
        if len(self.buffer) < start + length:
            return None
        frame = bytes(self.buffer[start : start + length])
        del self.buffer[: start + length]
        return frame

    def next_message(self, message_type, what):
        frame = self.next_frame()
        if frame is None:
            raise ClientError(f"the server closed the connection before {what}")
        message = message_type()
        message.ParseFromString(frame)
        return message


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT_SECONDS)


def chat_message(plain):
    return chat_pb2.ChatMessage(
        **{"from": int(plain["from"]), "to": int(plain["to"]), "msg": plain["msg"]}
    )


def plain_chat(message):
    return {"from": str(getattr(message, "from")), "to": str(message.to), "msg": message.msg}


def plain_handshake(handshake):
    return {"id": str(handshake.id), "error": handshake.error}


def echo_problems(my_id, sent, echoes):
    problems = []
    for index, (message, echo) in enumerate(zip(sent, echoes)):
        if getattr(echo, "from") != my_id:
            problems.append(f"echo {index}: from is {getattr(echo, 'from')}, not my id {my_id}")
        if echo.to != message.to:
            problems.append(f"echo {index}: to is {echo.to}, not {message.to}")
        if echo.msg != message.msg:
            problems.append(f"echo {index}: msg is {echo.msg!r}, not {message.msg!r}")
    return problems


def echo(port, messages):
    with connect(port) as connection:
        frames = FrameReader(connection)
        handshake = frames.next_message(chat_pb2.Handshake, "the handshake")
        connection.sendall(b"".join(frame_of(message) for message in messages))
        echoes = [
            frames.next_message(chat_pb2.ChatMessage, f"echo {index}")
            for index in range(len(messages))
        ]
    problems = ["the server refused the connection"] if handshake.error else []
    return {
        "handshake": plain_handshake(handshake),
        "echoes": [plain_chat(echo) for echo in echoes],
        "problems": problems + echo_problems(handshake.id, messages, echoes),
    }


def refused(port):
    with connect(port) as kept:
        first = FrameReader(kept).next_message(chat_pb2.Handshake, "the first handshake")
        with connect(port) as turned_away:
            frames = FrameReader(turned_away)
            refusal = frames.next_message(chat_pb2.Handshake, "the second handshake")
            frames_after_refusal = 0
            while frames.next_frame() is not None:
                frames_after_refusal += 1
    problems = []
    if first.error:
        problems.append("the first connection was refused")
    if not refusal.error:
        problems.append("the second connection was accepted")
    return {
        "kept": plain_handshake(first),
        "refused": plain_handshake(refusal),
        "framesAfterRefusal": frames_after_refusal,
        "problems": problems,
    }


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=["echo", "refused"])
    parser.add_argument("port", type=int)
    arguments = parser.parse_args()
    try:
        if arguments.mode == "echo":
            messages = [chat_message(plain) for plain in json.loads(sys.stdin.buffer.read())]
            report = echo(arguments.port, messages)
        else:
            report = refused(arguments.port)
    except (ClientError, OSError) as error:
        sys.exit(f"chat_client.py {arguments.mode}: {error}")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
