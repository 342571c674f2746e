import QRCode from 'qrcode';

/**
 * The trip QR image used outside the official account (Wechaty bot, simulator). An OA parametric QR code only works
 * with the OA's own scanner, so these carry the 6-digit trip code as plain text: WeChat's scanner (or any phone
 * camera) shows the code, and sending it to the bot starts the passenger flow (a 6-digit code is a passenger trigger).
 */
export function tripQrContent(code: string): string {
  return code;
}

/** A 256-px PNG of the trip QR code. */
export async function tripQrPng(code: string): Promise<Buffer> {
  return QRCode.toBuffer(tripQrContent(code), { type: 'png', width: 256, margin: 2, errorCorrectionLevel: 'M' });
}
