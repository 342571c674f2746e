import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server on 127.0.0.1 (smtp-server) that keeps every accepted message, parsed with mailparser. */
export interface SmtpStub {
  url: string;
  messages: ParsedMail[];
  /** Answer the next n DATA commands with a temporary failure (451), as a busy mail server would. */
  rejectNext(n: number): void;
  /** Messages refused so far. */
  rejected(): number;
  close(): Promise<void>;
}

export async function startSmtpStub(): Promise<SmtpStub> {
  const messages: ParsedMail[] = [];
  let toReject = 0;
  let rejectedCount = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (toReject > 0) {
          toReject -= 1;
          rejectedCount += 1;
          callback(Object.assign(new Error('mailbox busy, try again later'), { responseCode: 451 }));
          return;
        }
        simpleParser(Buffer.concat(chunks)).then((mail) => { messages.push(mail); callback(); }, (err: Error) => callback(err));
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    rejectNext(n) { toReject = n; },
    rejected: () => rejectedCount,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
