import { UnrecoverableError, type Job } from 'bullmq';
import { OutboundJob } from '../../src/contracts/jobs.js';
import { UpstreamError } from '../../src/errors.js';
import type { Services } from '../../src/services.js';
import { renderText } from '../../src/i18n/render.js';
import { openRecipient } from '../../src/security/recipient.js';

const MAX_QR_SECONDS = 2_592_000;
const DAY_SECONDS = 86_400;

/** The scene string of a trip's QR code; the passenger flow reads the trip code back out of it. */
export function tripScene(code: string): string {
  return `trip-${code}`;
}

/**
 * Outbound messages: the trip QR image (qrcode/create → PNG → media/upload → custom/send) and customer-service
 * texts. WeChat errors marked non-retryable (48 h window closed, quota) stop retrying; others back off.
 */
export function createOutboundProcessor(services: Services, extra: { sms?: (messageId: string) => Promise<void> } = {}) {
  return async function processOutbound(job: Job): Promise<string> {
    const parsed = OutboundJob.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`outbound job ${job.id ?? '?'} has an invalid payload`);
    const data = parsed.data;
    try {
      switch (data.kind) {
        case 'wechat-trip-qr': {
          const api = services.wechat?.api;
          if (!api) throw new UnrecoverableError('WECHAT_APPID/WECHAT_APPSECRET are not configured: cannot send QR codes');
          const trip = await services.repos.trips.byId(data.tripId);
          if (!trip) throw new UnrecoverableError('trip not found');
          let url = trip.qr?.url;
          if (!url || (trip.qr?.expiresAt && trip.qr.expiresAt.getTime() < Date.now() + 3600_000)) {
            const expire = Math.min(MAX_QR_SECONDS, Math.max(DAY_SECONDS, Math.ceil((trip.departureAt.getTime() - Date.now()) / 1000) + DAY_SECONDS));
            const qr = await api.createTripQr(tripScene(trip.code), expire);
            await services.repos.trips.setQr(trip.id, { ticket: qr.ticket, url: qr.url, expiresAt: new Date(Date.now() + qr.expireSeconds * 1000) });
            url = qr.url;
          }
          const mediaId = await api.uploadImage(await api.qrPng(url), `trip-${trip.code}.png`);
          await api.sendImage(openRecipient(services.keys.session, data.openid), mediaId);
          return 'sent';
        }
        case 'wechat-text': {
          const api = services.wechat?.api;
          if (!api) throw new UnrecoverableError('WECHAT_APPID/WECHAT_APPSECRET are not configured');
          // A param may travel sealed too (the report's signed download link).
          const params = Object.fromEntries(Object.entries(data.params).map(([k, v]) => [k, typeof v === 'string' ? openRecipient(services.keys.session, v) : v]));
          await api.sendText(openRecipient(services.keys.session, data.openid), renderText(services.translator, data.locale, { key: data.key, params }));
          return 'sent';
        }
        case 'wechat-template': {
          const api = services.wechat?.api;
          if (!api) throw new UnrecoverableError('WECHAT_APPID/WECHAT_APPSECRET are not configured');
          const url = data.url === undefined ? undefined : openRecipient(services.keys.session, data.url);
          await api.sendTemplate(openRecipient(services.keys.session, data.openid), data.templateId, data.data, url, data.clientMsgId === undefined ? {} : { clientMsgId: data.clientMsgId });
          return 'sent';
        }
        case 'wechat-continuation': {
          const api = services.wechat?.api;
          if (!api) throw new UnrecoverableError('WECHAT_APPID/WECHAT_APPSECRET are not configured');
          await api.sendText(openRecipient(services.keys.session, data.openid), openRecipient(services.keys.session, data.text));
          return 'sent';
        }
        case 'sms': {
          if (!extra.sms) throw new UnrecoverableError('SMS sending is not configured');
          await extra.sms(data.messageId);
          return 'sent';
        }
        default: {
          const never: never = data;
          throw new UnrecoverableError(`unknown outbound job ${JSON.stringify(never)}`);
        }
      }
    } catch (err) {
      if (err instanceof UpstreamError && err.details?.['retryable'] === false) throw new UnrecoverableError(`${err.code}: ${err.message}`);
      throw err;
    }
  };
}
