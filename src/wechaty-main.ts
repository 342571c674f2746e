import closeWithGrace from 'close-with-grace';
import { pino } from 'pino';
import { WechatyBuilder } from 'wechaty';
import { z } from 'zod';
import { ensureDevSecrets, ensureRedis } from './bootstrap.js';
import { loadConfig, type Config } from './config.js';
import { createWechatyChannel } from './channels/wechaty/adapter.js';
import { runWechatyDemo } from './channels/wechaty/demo.js';
import { startMockBot } from './channels/wechaty/mock-bot.js';
import { loggerOptions } from './logger.js';
import { openServices } from './services.js';

/**
 * `npm run wechaty`: the Wechaty bot (puppet from WECHATY_PUPPET, token from WECHATY_PUPPET_SERVICE_TOKEN).
 * With the mock puppet (the default) there is nobody to talk to, so it runs the demo: mocked contacts play a driver
 * and a passenger through a whole registration, the transcript is printed, and it exits 0 when the passenger is on
 * the roster (1 otherwise). `--demo` forces the demo with any configured store.
 */
const MOCK_PUPPET = 'wechaty-puppet-mock';

function loadOrExit(env: Record<string, string | undefined>): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof z.ZodError) {
      process.stderr.write(`configuration error:\n${z.prettifyError(err)}\n`);
      process.exit(1);
    }
    throw err;
  }
}

async function main(argv: string[]): Promise<void> {
  const bootLog = pino(loggerOptions({ logLevel: 'info', logPretty: undefined }));
  const env = await ensureDevSecrets(process.env, bootLog);
  const redisChild = await ensureRedis(env, bootLog);
  const config = loadOrExit(env);
  const demo = argv.includes('--demo') || config.wechaty.puppet === MOCK_PUPPET;
  // The demo prints a transcript on stdout: keep the service's own log lines quiet unless asked for.
  const services = await openServices(config, demo ? { logger: pino(loggerOptions({ ...config, logLevel: env['LOG_LEVEL'] ? config.logLevel : 'warn' })) } : {});
  const channel = createWechatyChannel({ conversation: services.conversation, translator: services.translator, log: services.log });

  if (demo) {
    const mockBot = await startMockBot(channel, services.log);
    let ok = false;
    try {
      const result = await runWechatyDemo(services, mockBot);
      process.stdout.write(`${result.lines.join('\n')}\n`);
      ok = result.registered > 0;
    } finally {
      await mockBot.stop();
      await services.close();
      redisChild?.stop();
    }
    process.exitCode = ok ? 0 : 1;
    return;
  }

  const bot = WechatyBuilder.build({
    name: 'boardroll',
    puppet: config.wechaty.puppet as Parameters<typeof WechatyBuilder.build>[0] extends { puppet?: infer P } ? P : never,
    ...(config.wechaty.token ? { puppetOptions: { token: config.wechaty.token } } : {}),
  });
  bot.on('scan', (qrcode, status) => services.log.info({ status, loginUrl: `https://wechaty.js.org/qrcode/${encodeURIComponent(qrcode)}` }, 'scan this QR code to log the bot in'));
  bot.on('login', (user) => services.log.info({ bot: user.id }, 'wechaty logged in'));
  bot.on('logout', (user) => services.log.warn({ bot: user.id }, 'wechaty logged out'));
  bot.on('error', (err) => services.log.warn({ err: err.message }, 'wechaty error'));
  bot.on('message', (msg) => {
    channel.onMessage(msg).catch((err: unknown) => services.log.error({ err }, 'wechaty message failed'));
  });
  await bot.start();
  services.log.info({ puppet: config.wechaty.puppet }, 'wechaty bot started');
  closeWithGrace({ delay: 10_000 }, async ({ err }) => {
    if (err) services.log.error({ err }, 'shutting down after an error');
    await bot.stop();
    await services.close();
    redisChild?.stop();
  });
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`boardroll wechaty failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
