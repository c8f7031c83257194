import { toEml } from '../../../src/business/eml';

describe('outbox .eml', () => {
  const eml = toEml({
    from: 'Acme <bookings@acme.test>',
    to: 'jane@example.com',
    subject: 'Rendez-vous confirmé',
    text: `Hello\nline two ${'x'.repeat(2000)}`,
    date: new Date('2026-11-23T08:00:00Z'),
    id: 'm1',
  });

  it('is an RFC 5322 message with CRLF lines under 998 octets', () => {
    const [head, body] = eml.split('\r\n\r\n');
    expect(head!.split('\r\n')).toEqual([
      'From: Acme <bookings@acme.test>',
      'To: jane@example.com',
      `Subject: =?UTF-8?B?${Buffer.from('Rendez-vous confirmé').toString('base64')}?=`,
      'Date: Mon, 23 Nov 2026 08:00:00 +0000',
      'Message-ID: <m1@acme.test>',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
    ]);
    expect(eml.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    for (const line of eml.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(998);
    expect(body!.startsWith('Hello\r\nline two\r\nxxx')).toBe(true);
  });
});
