import { SMS_KINDS } from '../../config.js';
import { maxRenderedLength, renderSms, SMS_TEMPLATE_VARIABLES, lintSmsTemplate, smsTemplateText, smsLength } from './sms-templates.js';
for (const locale of ['zh-CN', 'en'] as const) for (const kind of SMS_KINDS) {
  const params = Object.fromEntries(Object.entries(SMS_TEMPLATE_VARIABLES[kind]).map(([k, v]) => [k, v.example]));
  const t = renderSms({ kind, params, locale, signName: '出行登记' });
  console.log(locale, kind, maxRenderedLength(kind, locale, '出行登记'), smsLength(t), t, lintSmsTemplate(smsTemplateText(kind, locale)));
}
