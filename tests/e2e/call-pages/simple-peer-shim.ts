// In the call test page, simple-peer comes from its own browser bundle (simplepeer.min.js, injected first as
// window.SimplePeer); core's `import SimplePeer from 'simple-peer'` resolves here.
const SimplePeer = (globalThis as unknown as { SimplePeer: unknown }).SimplePeer;
export default SimplePeer;
