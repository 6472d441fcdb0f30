// Binds the engine's CallManager (messenger.calls) to the UI's CallUiState: commands go to the Call
// objects, their events come back as CallEvents.
import type { Call, CallManager } from '../../../core/src/call/index.js';
import type { CallControl, CallEvent, CallUiState } from '../state/call.svelte.js';

type BrowserCall = Call<MediaStream>;

/**
 * `onIncompatible`: a contact's Parley speaks another version of call signals (it rang us; no call is possible):
 * the app tells the user who and that an update is needed.
 */
export function bindCalls(
  manager: CallManager,
  state: CallUiState,
  onIncompatible: (peerId: string) => void = () => {},
): () => void {
  // The engine is generic over its stream type; in the browser its streams are MediaStreams.
  const calls = manager as unknown as CallManager<MediaStream>;
  const byId = new Map<string, BrowserCall>();
  const offs: Array<() => void> = [];

  const emit = (ev: CallEvent) => state.handle(ev);
  const follow = (call: BrowserCall): void => {
    byId.set(call.id, call);
    const id = call.id;
    const offState = call.on('state', ({ state: s, end }) => {
      switch (s) {
        case 'ringing':
          if (call.direction === 'outgoing') emit({ type: 'ringing', callId: id });
          break;
        case 'connecting':
          emit({ type: 'connecting', callId: id });
          break;
        case 'active':
          emit({ type: 'connected', callId: id, connectedAt: call.connectedAt ?? Date.now() });
          break;
        case 'reconnecting':
          emit({ type: 'reconnecting', callId: id });
          break;
        case 'ended':
        case 'failed': {
          const code = end?.code ?? (s === 'ended' ? 'hangup' : 'error');
          if (s === 'ended')
            emit({ type: 'ended', callId: id, reason: code as Extract<CallEvent, { type: 'ended' }>['reason'] });
          else
            emit({
              type: 'failed',
              callId: id,
              reason: code as Extract<CallEvent, { type: 'failed' }>['reason'],
              message: end?.message ?? '',
            });
          byId.delete(id);
          offState();
          offStream();
          offTrack();
          offRemote();
          break;
        }
        default:
          break;
      }
    });
    const offStream = call.on('remote-stream', (stream) => emit({ type: 'remote-stream', callId: id, stream }));
    // A track added later (video into an audio call): a new stream object re-binds the <video>.
    const offTrack = call.on('remote-track', ({ stream }) =>
      emit({ type: 'remote-stream', callId: id, stream: new MediaStream(stream.getTracks()) }),
    );
    const offRemote = call.on('remote-state', (r) =>
      emit({ type: 'remote-media', callId: id, muted: r.muted, cameraOff: r.cameraOff, video: r.video }),
    );
  };

  offs.push(calls.on('incompatible', ({ peerId }) => onIncompatible(peerId)));
  offs.push(
    calls.on('incoming', (call) => {
      follow(call);
      emit({ type: 'incoming', callId: call.id, contactId: call.peerId, video: call.offered.video });
    }),
  );

  const need = (id: string): BrowserCall => {
    const call = byId.get(id);
    if (!call) throw new Error('the call has ended');
    return call;
  };

  const control: CallControl = {
    start(contactId, stream, { video }) {
      const call = calls.start(contactId, stream, { video });
      follow(call);
      return call.id;
    },
    accept: (id, stream) => need(id).accept(stream),
    decline: (id) => byId.get(id)?.decline(),
    hangup: (id) => byId.get(id)?.hangup(),
    setMuted: (id, muted) => byId.get(id)?.setMuted(muted),
    setCameraOff: (id, off) => byId.get(id)?.setCameraOff(off),
    replaceTrack: (id, oldTrack, newTrack) => need(id).replaceTrack(oldTrack, newTrack),
    addVideo: (id, track, stream) => need(id).addVideo(track, stream),
    stats: async (id) => {
      const call = byId.get(id);
      return call ? call.stats() : null;
    },
  };
  state.bindControl(control);

  return () => {
    for (const off of offs) off();
    state.bindControl(null);
    byId.clear();
  };
}
