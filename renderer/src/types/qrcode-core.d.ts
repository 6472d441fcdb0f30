// The QR encoder core of the `qrcode` package (no canvas, no Node streams). Typed here because
// @types/qrcode covers only the top-level API and pulls in Node's types.
declare module 'qrcode/lib/core/qrcode.js' {
  export interface QrSymbol {
    modules: { size: number; data: Uint8Array };
    version: number;
  }
  export function create(text: string, options?: { errorCorrectionLevel?: 'L' | 'M' | 'Q' | 'H' }): QrSymbol;
}
