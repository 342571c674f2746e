import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shanghaiIsoDate } from '../../src/validation/calendar.js';
import { startTestApp, WechatUser, type TestApp } from '../helpers/app.js';
import { apiKey, mobile, registerTrip, residentId, tripNumber } from '../staff/fixtures.js';

/** POST /api/v1/ticketing/passengers, then the pre-registered riders confirm by scanning the trip QR code. */
describe('ticketing pre-registration', () => {
  let t: TestApp;
  let ticketing: string;
  beforeAll(async () => {
    t = await startTestApp();
    ticketing = await apiKey(t, 'ticketing', null);
  });
  afterAll(async () => { await t.close(); });

  const post = (body: unknown, key = ticketing) => t.app.inject({
    method: 'POST', url: '/api/v1/ticketing/passengers', headers: { authorization: `Bearer ${key}` }, payload: body as Record<string, unknown>,
  });

  async function tripFor(number: string): Promise<{ code: string; date: string }> {
    const code = await registerTrip(new WechatUser(t.app), { tripNumber: number });
    const trip = await t.services.repos.trips.byCode(code);
    return { code, date: shanghaiIsoDate(trip?.departureAt ?? new Date()) };
  }

  it('when a ticketing system posts passengers, then a rider who scans, types their document number and replies 1 is registered and the ticket is claimed', async () => {
    const number = tripNumber();
    const { code, date } = await tripFor(number);
    const rider = { ticketId: `T-${number}-1`, name: '王小明', idType: 1, idNumber: residentId(), phone: mobile() };
    const other = { ticketId: `T-${number}-2`, name: '李秀英', idType: 1, idNumber: residentId(), phone: null };
    const res = await post({ tripNumber: number.toLowerCase(), departureDate: date, origin: '沈阳北站', passengers: [rider, other] });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accepted: 2, rejected: [] });

    const user = new WechatUser(t.app);
    expect(await user.scan(`trip-${code}`)).toContain('回复 1 同意');
    expect(await user.say('1')).toContain('姓名');
    expect(await user.say('王小明')).toContain('证件类型');
    const saved = await user.say(rider.idNumber);
    expect(saved).toContain('王*明');
    expect(saved).toContain(`${rider.phone.slice(0, 3)}****${rider.phone.slice(-4)}`);
    expect(saved).not.toContain(rider.idNumber);
    expect(saved).toContain('回复 1 使用');
    expect(await user.say('1')).toContain('登记完成');

    const trip = await t.services.repos.trips.byCode(code);
    const roster = await t.services.repos.passengers.roster(trip?.id ?? '');
    expect(roster).toHaveLength(1);
    expect(roster[0]).toMatchObject({ name: '王小明', idNumber: rider.idNumber, phone: rider.phone, registeredBy: 'self' });
    expect((await t.services.repos.preregistrations.byTicketId(rider.ticketId))?.claimedPassengerId).toBe(roster[0]?.id);
    expect((await t.services.repos.preregistrations.byTicketId(other.ticketId))?.claimedPassengerId).toBeNull();
  });

  it('when the same tickets are posted again, then they are accepted once (idempotent by ticketId)', async () => {
    const number = tripNumber();
    const body = { tripNumber: number, departureDate: '2031-01-15', origin: '沈阳北站', passengers: [{ ticketId: `R-${number}`, name: '周大汉', idType: '1', idNumber: residentId(), phone: '' }] };
    expect((await post(body)).json()).toEqual({ accepted: 1, rejected: [] });
    expect((await post({ ...body, passengers: [{ ...body.passengers[0], name: '周小汉' }] })).json()).toEqual({ accepted: 1, rejected: [] });
    expect((await t.services.repos.preregistrations.byTicketId(`R-${number}`))?.name).toBe('周大汉');
  });

  it('when passengers are invalid, then each is rejected with a code and a message naming the field, and the valid ones are kept', async () => {
    const number = tripNumber();
    const id = residentId();
    const badChecksum = `${id.slice(0, 17)}${id.endsWith('0') ? '1' : '0'}`;
    const res = await post({
      tripNumber: number, departureDate: '2031-01-15', origin: '沈阳北站',
      passengers: [
        { ticketId: 'ok-1', name: '王小明', idType: 1, idNumber: residentId(), phone: mobile() },
        { ticketId: 'bad-id', name: '王小明', idType: 1, idNumber: badChecksum, phone: null },
        { ticketId: 'bad-type', name: '王小明', idType: 9, idNumber: residentId(), phone: null },
        { ticketId: 'bad-phone', name: '王小明', idType: 1, idNumber: residentId(), phone: '12345' },
        { ticketId: 'bad-name', name: '1234', idType: 1, idNumber: residentId(), phone: null },
      ],
    });
    expect(res.statusCode).toBe(200);
    const answer = res.json() as { accepted: number; rejected: { ticketId: string; code: string; message: string }[] };
    expect(answer.accepted).toBe(1);
    expect(answer.rejected.map((r) => [r.ticketId, r.code])).toEqual([
      ['bad-id', 'ID_NUMBER_INVALID'], ['bad-type', 'ID_TYPE_INVALID'], ['bad-phone', 'PHONE_INVALID'], ['bad-name', 'NAME_INVALID'],
    ]);
    expect(answer.rejected[0]?.message).toMatch(/^idNumber: The last character of this ID number is not right/);
    expect(answer.rejected[2]?.message).toMatch(/^phone: /);
    expect(await t.services.repos.preregistrations.byTicketId('bad-id')).toBeNull();
  });

  it('when the request is malformed or the key is not a ticketing key, then it gets a precise 4xx and nothing is stored', async () => {
    const number = tripNumber();
    const passenger = { ticketId: `M-${number}`, name: '王小明', idType: 1, idNumber: residentId(), phone: null };
    const noDate = await post({ tripNumber: number, origin: '沈阳北站', passengers: [passenger] });
    expect(noDate.statusCode).toBe(400);
    expect(noDate.json()).toMatchObject({ code: 'INPUT_INVALID' });
    expect((noDate.json() as { message: string }).message).toContain('departureDate');
    expect((await post({ tripNumber: number, departureDate: '2031-01-15', origin: '沈阳北站', passengers: [] })).statusCode).toBe(400);
    expect((await post({ tripNumber: '无', departureDate: '2031-01-15', origin: '沈阳北站', passengers: [passenger] })).statusCode).toBe(400);
    const wrongRole = await post({ tripNumber: number, departureDate: '2031-01-15', origin: '沈阳北站', passengers: [passenger] }, await apiKey(t, 'station'));
    expect(wrongRole.statusCode).toBe(403);
    expect(wrongRole.json()).toMatchObject({ code: 'AUTH_ROLE' });
    expect(await t.services.repos.preregistrations.byTicketId(passenger.ticketId)).toBeNull();
  });
});
