"""A chat client on Google's protobuf runtime (Debian's python3-protobuf) that shares no code with
the server, for spec/interop/python-client.spec.ts. chat_pb2 is generated at test time:

    protoc --proto_path=proto --python_out=DIR chat.proto
    PYTHONPATH=DIR /usr/bin/python3 spec/interop/chat_client.py echo PORT < messages.json
    PYTHONPATH=DIR /usr/bin/python3 spec/interop/chat_client.py MODE PORT

echo: joins, sends the ChatMessages given on stdin (a JSON list of {"from", "to", "msg"}) in one
write, reads their echoes and checks each one. refused: joins, then, while that connection holds
the only place of a server started with --max-clients 1, connects again and reads until the
server closes. Either prints one JSON report on stdout, int64 values as decimal strings since JSON
numbers cannot hold them, with the problems it found; it exits 1 when it cannot finish at all.

The other modes are conversations of several clients, A, B, … (B2 is B's second connection), that
say hello: direct (direct messages between two connected users, receipts, deliveries,
acknowledgements and the errors they can cause), offline (a message stored for a user who left,
delivered, redelivered and acknowledged as that user resumes with the secret of its first
handshake, and taken over by a later connection) and wrong-secret (a hello with a wrong secret or
an unknown id is refused and the connection closed). Each prints, as its last line, a JSON report:
"events", every frame each client read, in the order it read them, as [client, frame] with only
the fields set (int64 as decimal strings, enums by name), a handshake's secret as its length, and
"closed" when the server closed that connection; and "problems", what could only be checked here,
such as an echo's bytes. Where the server must have seen something happen before the conversation
goes on (a client's disconnection), it prints "WAIT <n> <text>", and reads a line "ok" on stdin
once the server's log has n lines starting with that text.
"""

import argparse
import json
import select
import socket
import sys

import chat_pb2

# Small on purpose: the server's frames then arrive split across reads, which FrameReader joins.
RECV_BYTES = 5
# Only a bound for a server that never answers: every read is answered long before.
SOCKET_TIMEOUT_SECONDS = 5
# Only a bound too: the test answers a WAIT as soon as the server has logged what it waits for.
WAIT_TIMEOUT_SECONDS = 10
MAX_VARINT_BYTES = 10
SECRET_BYTES = 16
# An id the server has not given out in these short conversations.
NEVER_GIVEN_OUT = 9000


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
        # The last frame taken, with its length prefix, as it came.
        self.last_raw = b""

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
        self.last_raw = bytes(self.buffer[: start + length])
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
            refusal_bytes = frames.last_raw
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
        "refusalBytes": refusal_bytes.hex(),
        "framesAfterRefusal": frames_after_refusal,
        "problems": problems,
    }


def plain(message):
    """The fields set in a message, by name: those not at their proto3 default, and every message
    field present (even empty); int64 and uint64 as decimal strings, enums by name, bytes as hex."""
    return {field.name: plain_value(field, value) for field, value in message.ListFields()}


def plain_value(field, value):
    if field.type == field.TYPE_MESSAGE:
        return plain(value)
    if field.type == field.TYPE_ENUM:
        known = field.enum_type.values_by_number.get(value)
        return known.name if known is not None else f"{value} (unknown)"
    if field.type == field.TYPE_BYTES:
        return value.hex()
    if field.type in (field.TYPE_INT64, field.TYPE_UINT64):
        return str(value)
    return value


def hello(user_id=0, secret=b""):
    """The first frame of a client that acknowledges; with an id and its secret, a resume."""
    return chat_pb2.ChatMessage(hello=chat_pb2.Hello(id=user_id, secret=secret))


def direct_message(to, text):
    return chat_pb2.ChatMessage(to=to, msg=text)


def ack(delivery):
    return chat_pb2.ChatMessage(ack=delivery)


class Conversation:
    """Several clients of one server; every frame they read is an event, in the order read."""

    def __init__(self, port):
        self.port = port
        self.events = []
        self.problems = []
        self.clients = []

    def join(self, name):
        client = Client(self, name)
        self.clients.append(client)
        return client

    def wait_for_server_log(self, count, text):
        """Goes on once the test has seen `count` lines starting with `text` in the server's log."""
        print(f"WAIT {count} {text}", flush=True)
        ready, _, _ = select.select([sys.stdin], [], [], WAIT_TIMEOUT_SECONDS)
        answer = sys.stdin.readline().strip() if ready else ""
        if answer != "ok":
            raise ClientError(f"no word that the server logged {count} times {text!r}")

    def close(self):
        for client in self.clients:
            client.connection.close()

    def report(self):
        return {"events": self.events, "problems": self.problems}


class Client:
    """One connection: its handshake, read at once, then ChatMessages."""

    def __init__(self, conversation, name):
        self.conversation = conversation
        self.name = name
        self.connection = connect(conversation.port)
        self.frames = FrameReader(self.connection)
        self.handshake = self.frames.next_message(chat_pb2.Handshake, f"{name}'s handshake")
        handshake = plain(self.handshake)
        if "secret" in handshake:
            handshake["secret"] = f"{len(self.handshake.secret)} bytes"
        self.record({"handshake": handshake})

    @property
    def id(self):
        return self.handshake.id

    @property
    def secret(self):
        return self.handshake.secret

    def record(self, event):
        self.conversation.events.append([self.name, event])

    def problem(self, text):
        self.conversation.problems.append(f"{self.name}: {text}")

    def send(self, *messages):
        self.connection.sendall(b"".join(frame_of(message) for message in messages))

    def receive(self, what):
        message = self.frames.next_message(chat_pb2.ChatMessage, f"{self.name} read {what}")
        self.record(plain(message))
        return message

    def receive_echo_of(self, sent):
        """The next frame, which must be `sent` (with `from` as this user's id) byte for byte."""
        self.receive(f"the echo of {sent.msg!r}")
        echoed, expected = self.frames.last_raw, frame_of(sent)
        if echoed != expected:
            self.problem(f"the echo of {sent.msg!r} is {echoed.hex()}, not {expected.hex()}")

    def read_until_closed(self):
        """Every frame up to the server's close, then "closed"."""
        while True:
            frame = self.frames.next_frame()
            if frame is None:
                self.record("closed")
                return
            message = chat_pb2.ChatMessage()
            message.ParseFromString(frame)
            self.record(plain(message))

    def leave(self):
        """Ends this side of the connection and reads what the server still sends, to its close."""
        self.connection.shutdown(socket.SHUT_WR)
        self.read_until_closed()


def direct(conversation):
    a = conversation.join("A")
    b = conversation.join("B")
    if a.secret == b.secret:
        conversation.problems.append("A and B have the same secret")
    a.send(hello())
    a.receive("A's welcome")
    b.send(hello())
    b.receive("B's welcome")

    # Two direct messages to B, three that only come back, and one to nobody, in one write.
    echo_only = [
        chat_pb2.ChatMessage(**{"from": a.id, "to": 0, "msg": "to nobody in particular"}),
        chat_pb2.ChatMessage(**{"from": a.id, "to": a.id, "msg": "to myself"}),
        chat_pb2.ChatMessage(**{"from": a.id, "to": -1, "msg": "to a negative id"}),
    ]
    a.send(
        direct_message(b.id, "hello B"),
        direct_message(b.id, "are you there?"),
        *echo_only,
        direct_message(NEVER_GIVEN_OUT, "anyone there?"),
    )
    a.receive("the receipt of the first message to B")
    a.receive("the receipt of the second message to B")
    for sent in echo_only:
        a.receive_echo_of(sent)
    a.receive("the receipt of the message to nobody")
    b.receive("the first delivery")
    b.receive("the second delivery")

    # B acknowledges both at once; every later ack of them, or of one never sent, is an error.
    b.send(ack(2))
    b.send(ack(1))
    b.receive("the error for acknowledging 1 again")
    b.send(ack(2))
    b.receive("the error for acknowledging 2 again")
    b.send(ack(3))
    b.receive("the error for acknowledging 3, never sent")
    b.send(hello())
    b.receive("the error for a second hello")

    # B answers: A's own deliveries are numbered from 1.
    b.send(direct_message(a.id, "hello A"))
    b.receive("the receipt of the message to A")
    a.receive("the delivery from B")
    a.send(ack(1))
    still_open = chat_pb2.ChatMessage(**{"from": a.id, "to": 0, "msg": "still here"})
    a.send(still_open)
    a.receive_echo_of(still_open)


def offline(conversation):
    a = conversation.join("A")
    a.send(hello())
    a.receive("A's welcome")
    b = conversation.join("B")
    b.send(hello())
    b.receive("B's welcome")
    b.leave()
    conversation.wait_for_server_log(1, f"user {b.id} disconnected")

    a.send(direct_message(b.id, "while you were away"))
    a.receive("the receipt of the message to B, offline")

    # B comes back on a new connection, resumes with its first secret, reads and does not ack.
    b2 = conversation.join("B2")
    b2.send(hello(b.id, b.secret))
    b2.receive("the welcome of B resumed")
    b2.receive("the delivery kept for B")
    b2.leave()
    conversation.wait_for_server_log(2, f"user {b.id} disconnected")

    # Not acknowledged: it comes again, as redelivered; this time B acknowledges it.
    b3 = conversation.join("B3")
    b3.send(hello(b.id, b.secret))
    b3.receive("the welcome of B resumed again")
    b3.receive("the delivery kept for B, again")
    b3.send(ack(1), ack(1))
    b3.receive("the error for acknowledging 1 twice")

    # B connects again elsewhere while B3 is open: B3 is closed, nothing waits for B4.
    b4 = conversation.join("B4")
    b4.send(hello(b.id, b.secret))
    b4.receive("the welcome of B resumed once more")
    b3.read_until_closed()
    a.send(direct_message(b.id, "welcome back"))
    a.receive("the receipt of the message to B, online")
    b4.receive("the next delivery to B")
    b4.send(ack(2))
    bye = chat_pb2.ChatMessage(**{"from": b.id, "to": 0, "msg": "bye"})
    b4.send(bye)
    b4.receive_echo_of(bye)


def wrong_secret(conversation):
    b = conversation.join("B")
    b.send(hello())
    b.receive("B's welcome")
    wrong = bytes([b.secret[0] ^ 1]) + b.secret[1:]

    x = conversation.join("X")
    x.send(hello(b.id, wrong))
    x.read_until_closed()
    y = conversation.join("Y")
    y.send(hello(b.id, b""))
    y.read_until_closed()
    z = conversation.join("Z")
    z.send(hello(NEVER_GIVEN_OUT, b.secret))
    z.read_until_closed()

    # B was neither resumed nor taken over.
    still_here = chat_pb2.ChatMessage(**{"from": b.id, "to": 0, "msg": "still here"})
    b.send(still_here)
    b.receive_echo_of(still_here)


CONVERSATIONS = {"direct": direct, "offline": offline, "wrong-secret": wrong_secret}


def converse(port, mode):
    conversation = Conversation(port)
    try:
        CONVERSATIONS[mode](conversation)
        for client in conversation.clients:
            if len(client.secret) != SECRET_BYTES:
                client.problem(f"a secret of {len(client.secret)} bytes, not {SECRET_BYTES}")
    finally:
        conversation.close()
    return conversation.report()


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=["echo", "refused", *CONVERSATIONS])
    parser.add_argument("port", type=int)
    arguments = parser.parse_args()
    try:
        if arguments.mode == "echo":
            messages = [chat_message(fields) for fields in json.loads(sys.stdin.buffer.read())]
            report = echo(arguments.port, messages)
        elif arguments.mode == "refused":
            report = refused(arguments.port)
        else:
            report = converse(arguments.port, arguments.mode)
    except (ClientError, OSError) as error:
        sys.exit(f"chat_client.py {arguments.mode}: {error}")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
