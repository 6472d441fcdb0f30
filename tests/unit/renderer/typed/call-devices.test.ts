// CallDevices opens the camera at the same size on every call: the HD request goes with the chosen camera's id.
// (It did not: once the first call had learnt the camera's id, later calls asked for the id alone and got the
// browser's default 640×480 instead of 1280×720.)
import { describe, expect, it } from 'vitest';
import { CallDevices, type MediaAccess } from '../../../../renderer/src/state/call/devices.svelte.js';

function recordingMedia(asked: MediaStreamConstraints[]): MediaAccess {
  const track = (kind: 'audio' | 'video') => ({
    kind,
    stop: () => undefined,
    getSettings: () => ({ deviceId: `${kind}-1` }),
  });
  return {
    getUserMedia: async (c) => {
      asked.push(c);
      const tracks = [...(c.audio ? [track('audio')] : []), ...(c.video ? [track('video')] : [])];
      return {
        getTracks: () => tracks,
        getAudioTracks: () => tracks.filter((t) => t.kind === 'audio'),
        getVideoTracks: () => tracks.filter((t) => t.kind === 'video'),
      } as unknown as MediaStream;
    },
    enumerateDevices: async () => [],
  };
}

const HD = { width: { ideal: 1280 }, height: { ideal: 720 } };

describe('CallDevices camera constraints', () => {
  it('asks for HD on the first call and on every later one, on the camera the first one chose', async () => {
    const asked: MediaStreamConstraints[] = [];
    const devices = new CallDevices(recordingMedia(asked));
    await devices.open(true);
    await devices.open(true);
    await devices.openCamera();
    expect(asked[0]!.video).toEqual(HD);
    expect(asked[1]!.video).toEqual({ ...HD, deviceId: { exact: 'video-1' } });
    expect(asked[2]!.video).toEqual({ ...HD, deviceId: { exact: 'video-1' } });
  });

  it('keeps HD when the user picks another camera mid-call', async () => {
    const asked: MediaStreamConstraints[] = [];
    const devices = new CallDevices(recordingMedia(asked));
    await devices.choose('videoinput', 'cam-2', true);
    expect(asked[0]!.video).toEqual({ ...HD, deviceId: { exact: 'cam-2' } });
    await devices.choose('audioinput', 'mic-2', true);
    expect(asked[1]).toEqual({ audio: { deviceId: { exact: 'mic-2' } } });
  });
});
