// The invite as a QR code drawn with half-block characters, for phones pointed at a terminal.
import QRCode from 'qrcode';

export function inviteQr(invite: string): Promise<string> {
  return QRCode.toString(invite, { type: 'terminal', small: true, errorCorrectionLevel: 'L' });
}
