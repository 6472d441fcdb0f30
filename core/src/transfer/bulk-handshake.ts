// The bulk lane's key confirmation: three short messages on a fresh TCP connection, before any record.
//   HELLO  connector → listener  type 0x01 | "PBL1" | role (1: sender, 2: receiver) | tag (16) | nonce (16)
//   PROOF  listener → connector  type 0x02 | nonce (16) | mac (32)     mac = confirmMac(end 'listener')
//   FINISH connector → listener  type 0x03 | mac (32)                  mac = confirmMac(end 'connector')
// The listener finds the key by the tag (a lane it was told to expect), and refuses a connector claiming the
// role the listener itself plays. Each side checks the other's proof before it sends a record; both then
// seal records with laneDirections(key, nonces). Wrong key, wrong role, unknown tag, anything malformed:
// BulkLaneError, and the caller closes the connection. Pure: the caller moves the bytes and keeps the deadline.
import type { Bytes } from '../../../signaling/protocol/index.js';
import {
  LANE_MAC_BYTES,
  LANE_NONCE_BYTES,
  LANE_TAG_BYTES,
  confirmMac,
  laneDirections,
  laneTag,
  macEqual,
  type LaneDirections,
  type LaneRole,
} from './bulk-key.js';
import { BulkLaneError } from './bulk-frame.js';

export const HELLO = 0x01;
export const PROOF = 0x02;
export const FINISH = 0x03;
const MAGIC = [0x50, 0x42, 0x4c, 0x31]; // "PBL1"
export const HELLO_BYTES = 1 + 4 + 1 + LANE_TAG_BYTES + LANE_NONCE_BYTES;
export const PROOF_BYTES = 1 + LANE_NONCE_BYTES + LANE_MAC_BYTES;
export const FINISH_BYTES = 1 + LANE_MAC_BYTES;

export interface Hello {
  role: LaneRole;
  tag: Bytes;
  nonce: Bytes;
}

export function encodeHello(hello: Hello): Bytes {
  const out = new Uint8Array(HELLO_BYTES);
  out[0] = HELLO;
  out.set(MAGIC, 1);
  out[5] = hello.role === 'sender' ? 1 : 2;
  out.set(hello.tag, 6);
  out.set(hello.nonce, 6 + LANE_TAG_BYTES);
  return out;
}

export function decodeHello(message: Uint8Array): Hello {
  if (message.length !== HELLO_BYTES || message[0] !== HELLO)
    throw new BulkLaneError('bad-handshake', 'not a bulk lane hello');
  for (let i = 0; i < 4; i++)
    if (message[1 + i] !== MAGIC[i]) throw new BulkLaneError('bad-handshake', 'not a bulk lane hello (magic)');
  const role = message[5] === 1 ? 'sender' : message[5] === 2 ? 'receiver' : null;
  if (!role) throw new BulkLaneError('bad-handshake', `unknown lane role ${message[5]}`);
  return {
    role,
    tag: message.slice(6, 6 + LANE_TAG_BYTES),
    nonce: message.slice(6 + LANE_TAG_BYTES, HELLO_BYTES),
  };
}

function decodeProof(message: Uint8Array): { nonce: Bytes; mac: Bytes } {
  if (message.length !== PROOF_BYTES || message[0] !== PROOF)
    throw new BulkLaneError('bad-handshake', 'not a bulk lane proof');
  return { nonce: message.slice(1, 1 + LANE_NONCE_BYTES), mac: message.slice(1 + LANE_NONCE_BYTES) };
}

function decodeFinish(message: Uint8Array): Bytes {
  if (message.length !== FINISH_BYTES || message[0] !== FINISH)
    throw new BulkLaneError('bad-handshake', 'not a bulk lane finish');
  return message.slice(1);
}

function nonce(): Bytes {
  return crypto.getRandomValues(new Uint8Array(LANE_NONCE_BYTES));
}

/** What both ends have once the handshake is through. */
export interface LaneKeys {
  /** This side's role for the file. */
  role: LaneRole;
  tag: Bytes;
  directions: LaneDirections;
}

/** The dialling end: hello() first, then proof(PROOF) gives FINISH to send and the keys. */
export class ConnectorHandshake {
  #step: 'new' | 'hello' | 'done' = 'new';
  #tag: Bytes | undefined;
  readonly #nonce = nonce();

  constructor(
    private readonly key: Uint8Array,
    private readonly role: LaneRole,
  ) {}

  async hello(): Promise<Bytes> {
    if (this.#step !== 'new') throw new BulkLaneError('bad-handshake', 'hello already sent');
    this.#step = 'hello';
    this.#tag = await laneTag(this.key);
    return encodeHello({ role: this.role, tag: this.#tag, nonce: this.#nonce });
  }

  async proof(message: Uint8Array): Promise<{ finish: Bytes; keys: LaneKeys }> {
    if (this.#step !== 'hello' || !this.#tag) throw new BulkLaneError('bad-handshake', 'proof out of order');
    this.#step = 'done';
    const { nonce: listenerNonce, mac } = decodeProof(message);
    const common = {
      key: this.key,
      connectorRole: this.role,
      tag: this.#tag,
      connectorNonce: this.#nonce,
      listenerNonce,
    };
    if (!macEqual(mac, await confirmMac({ ...common, end: 'listener' })))
      throw new BulkLaneError('bad-key', 'the listener does not hold the lane key');
    const finish = new Uint8Array(FINISH_BYTES);
    finish[0] = FINISH;
    finish.set(await confirmMac({ ...common, end: 'connector' }), 1);
    return {
      finish,
      keys: { role: this.role, tag: this.#tag, directions: await laneDirections(this.key, this.#nonce, listenerNonce) },
    };
  }
}

/**
 * The accepting end: hello(HELLO, lookup) finds the lane by its tag and gives PROOF to send; finish(FINISH)
 * checks the connector's proof and gives the keys. `lookup` returns the key and role this side plays for a
 * tag it expects, or undefined.
 */
export class ListenerHandshake {
  #step: 'new' | 'proof' | 'done' = 'new';
  #confirm: { key: Uint8Array; role: LaneRole; hello: Hello; nonce: Bytes } | undefined;

  async hello(
    message: Uint8Array,
    lookup: (tag: Uint8Array) => { key: Uint8Array; role: LaneRole } | undefined,
  ): Promise<{ proof: Bytes; tag: Bytes }> {
    if (this.#step !== 'new') throw new BulkLaneError('bad-handshake', 'hello out of order');
    this.#step = 'proof';
    const hello = decodeHello(message);
    const lane = lookup(hello.tag);
    if (!lane) throw new BulkLaneError('unknown-lane', 'no lane with that tag is expected here');
    if (lane.role === hello.role)
      throw new BulkLaneError('bad-role', `both ends claim to be the ${lane.role} of the file`);
    const listenerNonce = nonce();
    this.#confirm = { key: lane.key, role: lane.role, hello, nonce: listenerNonce };
    const proof = new Uint8Array(PROOF_BYTES);
    proof[0] = PROOF;
    proof.set(listenerNonce, 1);
    proof.set(
      await confirmMac({
        key: lane.key,
        end: 'listener',
        connectorRole: hello.role,
        tag: hello.tag,
        connectorNonce: hello.nonce,
        listenerNonce,
      }),
      1 + LANE_NONCE_BYTES,
    );
    return { proof, tag: hello.tag };
  }

  async finish(message: Uint8Array): Promise<LaneKeys> {
    const c = this.#confirm;
    if (this.#step !== 'proof' || !c) throw new BulkLaneError('bad-handshake', 'finish out of order');
    this.#step = 'done';
    const mac = decodeFinish(message);
    const expected = await confirmMac({
      key: c.key,
      end: 'connector',
      connectorRole: c.hello.role,
      tag: c.hello.tag,
      connectorNonce: c.hello.nonce,
      listenerNonce: c.nonce,
    });
    if (!macEqual(mac, expected)) throw new BulkLaneError('bad-key', 'the connector does not hold the lane key');
    return { role: c.role, tag: c.hello.tag, directions: await laneDirections(c.key, c.hello.nonce, c.nonce) };
  }
}
