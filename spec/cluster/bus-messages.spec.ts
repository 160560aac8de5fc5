import { expect } from 'chai';
import {
  BusMessage,
  decodeDeliveries,
  decodeSignal,
  encodeSignal,
  NodeSignal,
} from '../../src/cluster/bus-messages';
import { STOP_REASONS, StopReason } from '../../src/server/service';

const MAX_INT64 = 2n ** 63n - 1n;
const MIN_INT64 = -(2n ** 63n);
const MAX_UINT64 = 2n ** 64n - 1n;

/** A decoded delivery message as plain values: its Long `to` as text. */
function plain(message: BusMessage): unknown {
  if (!('deliver' in message)) return message;
  const { to, deliver } = message;
  return { to, deliverTo: deliver.to.toString(), deliveries: deliver.deliveries };
}

function delivery(number: bigint, from: bigint, msg: string) {
  return { delivery: number, from, msg, redelivered: false };
}

/** The error decoding `payload` throws. */
function refusal(decode: (payload: string) => unknown, payload: string): Error {
  try {
    decode(payload);
  } catch (error) {
    expect(error).to.be.instanceOf(Error);
    return error as Error;
  }
  throw new Error(`decoded ${payload}`);
}

describe('bus messages', () => {
  describe('decodeDeliveries', () => {
    it('makes one message of each recipient’s consecutive runs of deliveries, in order', () => {
      const payload = JSON.stringify([
        ['2', '1', '1', ['a']],
        ['2', '2', '3', ['b']],
        ['4', '7', '1', ['c']],
        ['2', '3', '1', ['d']],
        ['2', '4', '5', ['e', 'f']],
      ]);
      expect(decodeDeliveries(payload).map(plain)).to.deep.equal([
        { to: 2n, deliverTo: '2', deliveries: [delivery(1n, 1n, 'a'), delivery(2n, 3n, 'b')] },
        { to: 4n, deliverTo: '4', deliveries: [delivery(7n, 1n, 'c')] },
        {
          to: 2n,
          deliverTo: '2',
          deliveries: [delivery(3n, 1n, 'd'), delivery(4n, 5n, 'e'), delivery(5n, 5n, 'f')],
        },
      ]);
    });

    it('decodes nothing from an empty list', () => {
      expect(decodeDeliveries('[]')).to.deep.equal([]);
    });

    it('keeps int64 ids and uint64 delivery numbers exactly, and texts as they were', () => {
      const text = '😀 𝄞 "quoted" \\ / \u0000 \u2028 中文';
      const payload = JSON.stringify([
        [MAX_INT64.toString(), MAX_UINT64.toString(), MIN_INT64.toString(), [text]],
        [MAX_INT64.toString(), '9007199254740993', (2n ** 53n + 1n).toString(), ['']],
        [MIN_INT64.toString(), '1', MAX_INT64.toString(), ['12345']],
      ]);
      const messages = decodeDeliveries(payload);
      expect(messages.map(plain)).to.deep.equal([
        {
          to: MAX_INT64,
          deliverTo: MAX_INT64.toString(),
          deliveries: [
            delivery(MAX_UINT64, MIN_INT64, text),
            delivery(9007199254740993n, 2n ** 53n + 1n, ''),
          ],
        },
        {
          to: MIN_INT64,
          deliverTo: MIN_INT64.toString(),
          deliveries: [delivery(1n, MAX_INT64, '12345')],
        },
      ]);
      for (const message of messages) {
        if (!('deliver' in message)) throw new Error('not a delivery');
        // `to` as a client wrote it: a signed int64.
        expect(message.deliver.to.unsigned).to.equal(false);
        for (const each of message.deliver.deliveries) {
          expect(typeof each.delivery).to.equal('bigint');
          expect(typeof each.from).to.equal('bigint');
        }
      }
    });

    it('decodes what the store’s Lua script publishes: cjson escapes its slashes', () => {
      // cjson writes "/" as "\/", and may write any character as \uXXXX.
      const payload = '[["3","1","2",["a\\/b \\u00e9 \\ud83d\\ude00"]]]';
      expect(decodeDeliveries(payload).map(plain)).to.deep.equal([
        { to: 3n, deliverTo: '3', deliveries: [delivery(1n, 2n, 'a/b é 😀')] },
      ]);
    });

    it('throws an error for a payload that is not a list of deliveries', () => {
      const malformed = [
        '',
        'not json',
        '[["2","1","1","a"]',
        'null',
        '{}',
        '"text"',
        '42',
        '{"0":["2","1","1","a"]}',
        '[null]',
        '[["2","1","1"]]',
        '[["2","1","1","a","extra"]]',
        '[[2,"1","1","a"]]',
        '[["2",1,"1","a"]]',
        '[["2","1",1,"a"]]',
        '[["2","1","1",5]]',
        '[["2","1","1",null]]',
        '[["x","1","1","a"]]',
        '[["1.5","1","1","a"]]',
        '[["","1","1","a"]]',
        '[[" 2","1","1","a"]]',
        '[["2e3","1","1","a"]]',
        '[["0x10","1","1","a"]]',
        '[["123456789012345678901","1","1","a"]]',
        '[["2","1","1","a"],"not an entry"]',
        '[["2","1","1",[]]]',
        '[["2","1","1",[5]]]',
        '[["2","1","1",["a",null]]]',
      ];
      for (const payload of malformed) refusal(decodeDeliveries, payload);
    });

    it('throws an error for ids beyond int64 and delivery numbers that no delivery has', () => {
      const malformed = [
        // A recipient or a sender out of int64 would wrap, or be no user.
        [(MAX_INT64 + 1n).toString(), '1', '1', ['a']],
        [(MIN_INT64 - 1n).toString(), '1', '1', ['a']],
        ['2', '1', (MAX_INT64 + 1n).toString(), ['a']],
        ['2', '1', '99999999999999999999', ['a']],
        // Deliveries are numbered from 1, up to 2^64 - 1.
        ['2', '0', '1', ['a']],
        ['2', '-1', '1', ['a']],
        ['2', (MAX_UINT64 + 1n).toString(), '1', ['a']],
      ];
      const accepted = malformed
        .map((entry) => JSON.stringify([entry]))
        .filter((payload) => {
          try {
            decodeDeliveries(payload);
            return true;
          } catch (error) {
            expect(error).to.be.instanceOf(Error);
            return false;
          }
        });
      expect(accepted).to.deep.equal([]);
    });
  });

  describe('encodeSignal and decodeSignal', () => {
    const reasons = Object.keys(STOP_REASONS) as StopReason[];

    it('round-trip announcements, with their origin and text exactly', () => {
      for (const announce of ['hello', '', '😀 𝄞 "x" \\ \u0000 \n 中文', 'x'.repeat(10000)]) {
        const signal: NodeSignal = { announce };
        expect(decodeSignal(encodeSignal('node-a', signal))).to.deep.equal({
          origin: 'node-a',
          signal: { announce },
        });
      }
      expect(decodeSignal(encodeSignal('', { announce: 'x' }))).to.deep.equal({
        origin: '',
        signal: { announce: 'x' },
      });
    });

    it('round-trip stops, for every reason and int64 ids exactly', () => {
      for (const stop of reasons) {
        for (const to of [0n, 1n, 2n ** 53n + 1n, MAX_INT64, -1n, MIN_INT64]) {
          const decoded = decodeSignal(encodeSignal('host-12 😀', { stop, to }));
          expect(decoded).to.deep.equal({ origin: 'host-12 😀', signal: { stop, to } });
          if (!('signal' in decoded) || !('stop' in decoded.signal)) throw new Error('no stop');
          expect(typeof decoded.signal.to).to.equal('bigint');
        }
      }
      expect(reasons).to.include.members(['kicked', 'shutdown', 'taken-over']);
    });

    it('writes ids as text in the JSON, so that other readers keep them exact too', () => {
      const fields = JSON.parse(encodeSignal('n', { stop: 'kicked', to: MAX_INT64 })) as unknown;
      expect(fields).to.deep.equal({ origin: 'n', stop: 'kicked', to: '9223372036854775807' });
      expect(JSON.parse(encodeSignal('n', { announce: 'hi' }))).to.deep.equal({
        origin: 'n',
        announce: 'hi',
      });
    });

    it('throws an error for a payload that is not a signal', () => {
      const malformed = [
        '',
        'not json',
        'null',
        '[]',
        '42',
        '"announce"',
        '{}',
        '{"announce":"hi"}',
        '{"origin":5,"announce":"hi"}',
        '{"origin":null,"announce":"hi"}',
        '{"origin":"a"}',
        '{"origin":"a","announce":5}',
        '{"origin":"a","stop":"kicked"}',
        '{"origin":"a","stop":"kicked","to":5}',
        '{"origin":"a","stop":"kicked","to":"x"}',
        '{"origin":"a","stop":"kicked","to":"1.5"}',
        '{"origin":"a","stop":"kicked","to":""}',
        '{"origin":"a","stop":"banned","to":"1"}',
        '{"origin":"a","stop":"toString","to":"1"}',
        '{"origin":"a","stop":"constructor","to":"1"}',
        '{"origin":"a","stop":"__proto__","to":"1"}',
        '{"origin":"a","stop":null,"to":"1"}',
      ];
      for (const payload of malformed) refusal(decodeSignal, payload);
    });

    it('throws an error for a stop to an id beyond int64', () => {
      const accepted = [MAX_INT64 + 1n, MIN_INT64 - 1n, 99999999999999999999n]
        .map((to) => `{"origin":"a","stop":"kicked","to":"${to}"}`)
        .filter((payload) => {
          try {
            decodeSignal(payload);
            return true;
          } catch (error) {
            expect(error).to.be.instanceOf(Error);
            return false;
          }
        });
      expect(accepted).to.deep.equal([]);
    });
  });
});
