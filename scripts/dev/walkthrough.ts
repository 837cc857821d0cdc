/**
 * What `npm start` prints: where everything runs, then each flow as numbered steps whose `$` lines are shell
 * commands to paste, in order, into one bash. Shell variables carry what a step learns (the token, the
 * binding id, a trade number) to the next, so nothing has to be copied by hand; every command names the
 * running ports, and the npm tools get the DATA_DIR of this start. The steps are in an order that works:
 * withholding before loss and unbinding, which come last and end what the earlier steps use (so the walk can
 * be run again on the next start).
 *
 * test/integration/demo/npm-start.test.ts runs exactly these lines against a started `npm start`.
 */

import path from 'node:path';

export interface WalkthroughInfo {
  bff: string;
  alipay: string;
  cardsys: string;
  /** The AntBuilder card-management sandbox (the membership card in the Alipay card wallet). */
  membercard: string;
  appId: string;
  school: { id: string; code: string; name: string };
  dataDir: string;
  /** DATA_DIR was left at its default: the npm tools find it themselves. */
  dataDirIsDefault: boolean;
  cards: ReadonlyArray<{ cardNo: string; name: string; studentNo: string }>;
  users: { student: string; parent: string };
  /** The demo's template id per message kind, as "chosen in the merchant console". */
  templates: Record<string, string>;
  ownerCode: string | null;
  /** The demo student's open_id: card management runs under our app here and names users by it. */
  studentOpenId: string;
  /** The membership card's templates at card management. */
  cardTemplates: { student: string; staff: string; lost: string };
  /** The demo vending machine's control API and the Alipay account of the company that runs it. */
  vending: { control: string; operatorAccount: string };
  /** This start's process (scripts/dev.ts), which `kill` stops as Ctrl-C does. */
  pid: number;
}

/** A value safe inside single quotes in bash. */
function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export function walkthrough(info: WalkthroughInfo): string {
  const { bff, alipay, cardsys, appId, school, users, templates } = info;
  const j = "-H 'content-type: application/json'";
  // The tools find this server through <DATA_DIR>/dev.json: tell them where it is when it is not .data.
  const shortDir = path.relative('.', info.dataDir);
  const tool = info.dataDirIsDefault
    ? 'npm run'
    : `DATA_DIR=${shellQuote(shortDir && !shortDir.startsWith('..') ? shortDir : info.dataDir)} npm run`;
  const [card, card2, card3] = info.cards;
  const pay = (trade: string, user: string) =>
    `curl -s ${alipay}/control/trades/pay ${j} -d "{\\"tradeNO\\":\\"${trade}\\",\\"userId\\":\\"${user}\\"}"`;
  const swipe = (cardNo: string, amountFen: number) =>
    `R=$(curl -s ${cardsys}/control/swipe ${j} -d '{"schoolCode":"${school.code}","cardNo":"${cardNo}","amountFen":${amountFen},"terminalId":"POS-01"}'); echo "$R"; TXN=$(echo "$R" | json .txnNo)`;
  const subscribeTo = ['RECHARGE_CREDITED', 'ARREARS', 'CARD_LOST']
    .map((kind) => templates[kind])
    .filter(Boolean);
  const ids = JSON.stringify(subscribeTo).replace(/"/g, '\\"');
  return `
Campus Card × Alipay is running (data in ${info.dataDir}; every URL and demo credential in ${info.dataDir}/dev.json).
  BFF                 ${bff}            (/healthz, /readyz, /api/v1, /gateway/v1, /notify/alipay)
  Alipay sandbox      ${alipay}          (control API: ${alipay}/control, docs/sandbox.md)
  Card-system sandbox ${cardsys}          (control API: ${cardsys}/control)
  Card management     ${info.membercard}          (AntBuilder sandbox; control API: ${info.membercard}/control)
  Vending machine     ${info.vending.control}          (the demo terminal VM-DEMO-01's control API, docs/sandbox.md)
  Demo school         ${school.name} ${school.code}  id ${school.id}
  Demo cards          ${info.cards.map((c) => `${c.cardNo} ${c.name} (学号 ${c.studentNo})`).join(', ')}
  Demo Alipay users   student ${users.student}, parent ${users.parent}

Walk it by hand: paste the $ lines in order into one bash (each step keeps what the next needs in a shell
variable). They make the mini-program's calls; the sandboxes' control APIs stand in for the Alipay app.

 0. a helper that prints one field of a JSON answer:
    $ json() { node -pe "JSON.parse(require('fs').readFileSync(0, 'utf8'))$1"; }

The student:
 1. an auth code (my.getAuthCode), then log in:
    $ AUTH=$(curl -s ${alipay}/control/auth-codes ${j} -d '{"userId":"${users.student}","appId":"${appId}"}' | json .authCode)
    $ TOKEN=$(curl -s ${bff}/api/v1/session ${j} -d "{\\"authCode\\":\\"$AUTH\\"}" | json .token); A="authorization: Bearer $TOKEN"
 2. allow three messages (my.requestSubscribeMessage: the user accepts in Alipay, the page tells the server):
    $ curl -s ${alipay}/control/message-subscriptions ${j} -d "{\\"userId\\":\\"${users.student}\\",\\"templateIds\\":${ids}}"
    $ curl -s ${bff}/api/v1/message-subscriptions ${j} -H "$A" -d "{\\"accepted\\":${ids}}"
 3. bind the card: its number, the holder's name and the proof this school asks for (it has no roster: the
    student number; with a roster, the ID number or its last 6, or one tap through Alipay):
    $ R=$(curl -s ${bff}/api/v1/bindings ${j} -H "$A" -d '{"schoolId":"${school.id}","cardNo":"${card.cardNo}","name":"${card.name}","relation":"SELF","studentNo":"${card.studentNo}"}'); echo "$R"; BINDING=$(echo "$R" | json .id)
 4. recharge ¥50.00 and pay it (my.tradePay):
    $ R=$(curl -s ${bff}/api/v1/recharges ${j} -H "$A" -d "{\\"bindingId\\":\\"$BINDING\\",\\"amountFen\\":5000}"); echo "$R"; ORDER=$(echo "$R" | json .id)
    $ ${pay('$(echo "$R" | json .tradeNo)', users.student)}
 5. see it: the order (again until CREDITED: CREATED → PAID → CREDITED), the card's balance from the card
    system, the statement (every record, each with a receipt) and the message Alipay delivered:
    $ curl -s ${bff}/api/v1/recharges/$ORDER -H "$A"
    $ curl -s ${bff}/api/v1/bindings/$BINDING -H "$A"
    $ curl -s ${bff}/api/v1/bindings/$BINDING/statement -H "$A"
    $ curl -s '${alipay}/control/messages?userId=${users.student}'

Withholding and a canteen swipe:
 6. sign password-free withholding for the card (my.paySignCenter: the user confirms at Alipay), then see it
    (again until ACTIVE with the card bound at the card system):
    $ SIGN=$(curl -s ${bff}/api/v1/withholding/sign ${j} -H "$A" -d "{\\"cards\\":[{\\"bindingId\\":\\"$BINDING\\"}]}" | json .signStr)
    $ curl -s ${alipay}/control/agreements/sign ${j} -d "{\\"signStr\\":\\"$SIGN\\",\\"userId\\":\\"${users.student}\\"}"
    $ curl -s ${bff}/api/v1/withholding -H "$A"
 7. swipe ¥12.00 at the canteen POS: APPROVED at once; follow the deduction (again until COLLECTED):
    $ ${swipe(card.cardNo, 1200)}
    $ ${tool} pos:client -- status --txn $TXN
 8. arrears: empty the payer's Alipay balance and swipe again: RETRYING, retried after 15 s and 30 s (the
    demo school's short schedule), then ARREARS, and the arrears message; meanwhile swipes are DECLINED IN_ARREARS:
    $ curl -s -XPUT ${alipay}/control/users/${users.student}/balance ${j} -d '{"balanceFen":0}'
    $ ${swipe(card.cardNo, 800)}
    $ ${tool} pos:client -- status --txn $TXN
    $ curl -s '${alipay}/control/messages?userId=${users.student}'
 9. repay: the debt names the child and the canteen; restore the balance, pay the repayment, and nothing is
    owed any more (again until the total is 0):
    $ curl -s ${bff}/api/v1/debts -H "$A"
    $ R=$(curl -s -XPOST ${bff}/api/v1/debts/repay ${j} -H "$A" -d '{"schoolId":"${school.id}"}'); echo "$R"; REPAY=$(echo "$R" | json .tradeNo)
    $ curl -s -XPUT ${alipay}/control/users/${users.student}/balance ${j} -d '{"balanceFen":50000}'
    $ ${pay('$REPAY', users.student)}
    $ curl -s ${bff}/api/v1/debts -H "$A"

A parent with two children at the school signs once for both:
10. log in as the parent, bind both cards with proof and sign one agreement covering them:
    $ AUTH=$(curl -s ${alipay}/control/auth-codes ${j} -d '{"userId":"${users.parent}","appId":"${appId}"}' | json .authCode)
    $ P="authorization: Bearer $(curl -s ${bff}/api/v1/session ${j} -d "{\\"authCode\\":\\"$AUTH\\"}" | json .token)"
    $ R=$(curl -s ${bff}/api/v1/bindings ${j} -H "$P" -d '{"schoolId":"${school.id}","cardNo":"${card2.cardNo}","name":"${card2.name}","relation":"PARENT","studentNo":"${card2.studentNo}"}'); echo "$R"; CHILD1=$(echo "$R" | json .id)
    $ R=$(curl -s ${bff}/api/v1/bindings ${j} -H "$P" -d '{"schoolId":"${school.id}","cardNo":"${card3.cardNo}","name":"${card3.name}","relation":"PARENT","studentNo":"${card3.studentNo}"}'); echo "$R"; CHILD2=$(echo "$R" | json .id)
    $ SIGN=$(curl -s ${bff}/api/v1/withholding/sign ${j} -H "$P" -d "{\\"cards\\":[{\\"bindingId\\":\\"$CHILD1\\"},{\\"bindingId\\":\\"$CHILD2\\",\\"txnLimitFen\\":2000}]}" | json .signStr)
    $ curl -s ${alipay}/control/agreements/sign ${j} -d "{\\"signStr\\":\\"$SIGN\\",\\"userId\\":\\"${users.parent}\\"}"
    $ curl -s ${bff}/api/v1/withholding -H "$P"
11. each child's swipe is collected under the one agreement and shows in that child's statement:
    $ ${swipe(card3.cardNo, 650)}
    $ ${tool} pos:client -- status --txn $TXN
    $ curl -s ${bff}/api/v1/bindings/$CHILD2/statement -H "$P"

Campus code (校园码): the student shows Alipay's code, a shop till scans it offline and uploads it later:
12. show the code, scan it at a till (PAID at once; the till uploads within a second) and read the till's
    record (again until the answer is ACCEPTED); the statement of step 5 then shows 校园码消费 ¥8.00 已支付:
    $ CODE=$(curl -s ${alipay}/control/campus-codes ${j} -d '{"userId":"${users.student}","schoolCode":"${school.code}","studentNo":"${card.studentNo}","studentName":"${card.name}"}')
    $ R=$(curl -s ${cardsys}/control/scan ${j} -d "{\\"schoolCode\\":\\"${school.code}\\",\\"terminalId\\":\\"TILL-01\\",\\"amountFen\\":800,\\"code\\":$CODE}"); echo "$R"; SCAN=$(echo "$R" | json .txnNo)
    $ curl -s ${cardsys}/control/scans/$SCAN
    Within 2 minutes the same till refuses the code again (ALREADY_SCANNED); another till takes it and the
    platform answers DUPLICATE_CODE. Hold a till's uploads with
    curl -s -XPUT ${cardsys}/control/schools/${school.code}/campus-code-uploads ${j} -d '{"held":true}' (and
    '{"held":false}' to send them): uploads more than 24 h after the code are late, 10 days EXPIRED.
    Without waiting 10 days: a till that scanned a code 11 days ago and uploads it now (the upload is answered
    EXPIRED; the school's admin of step 13 sees it in the mini-program's 校园码异常 → 上传过期):
              T=$(date -u -d '11 days ago' +%Y-%m-%dT%H:%M:%SZ)
              OLD=$(curl -s ${alipay}/control/campus-codes ${j} -d '{"userId":"${users.student}","schoolCode":"${school.code}","studentNo":"${card.studentNo}","studentName":"${card.name}","madeAt":"'$T'"}')
              curl -s ${cardsys}/control/scan ${j} -d "{\\"schoolCode\\":\\"${school.code}\\",\\"terminalId\\":\\"TILL-02\\",\\"amountFen\\":600,\\"scannedAt\\":\\"$T\\",\\"code\\":$OLD}"
              curl -s "${bff}/api/v1/admin/schools/${school.id}/campus-code/exceptions?kind=EXPIRED" -H "$A"

School admin (the demo student is invited as owner of ${school.name}):
13. ${
    info.ownerCode
      ? `owner invitation code: ${info.ownerCode}   (once, within 72 h; a new one is printed on the next start)
    in the mini-program: 选择学校 → 我是学校管理员 → enter the code; or by hand:
    $ curl -s ${bff}/api/v1/admin/invitations/redeem ${j} -H "$A" -d '{"code":"${info.ownerCode}"}'`
      : 'the demo student is already an admin of the school (redeemed on an earlier start).'
  }
14. change a setting, then read the audit log (and the operator's view of it):
    $ curl -s -XPUT ${bff}/api/v1/admin/schools/${school.id}/settings ${j} -H "$A" -d '{"rechargeMinFen":500}'
    $ curl -s ${bff}/api/v1/admin/schools/${school.id}/audit -H "$A"
    $ ${tool} operator -- audit --school ${school.code}
Another school, from nothing to its first recharge, as the platform operator does it (README "Onboarding a
school"; these steps need values from the answers before them, so they have no $ lines):
15. create it: ${tool} operator -- school create --code 4132010002 --name 新大学      (PENDING; prints authorizationLink.url)
16. the school's Alipay account authorizes: open that url in a browser and press 确认授权 (the Alipay sandbox's
    authorization page sends it on to our callback, which answers 授权成功), or the same by hand:
              curl -sL '<authorizationLink.url>' --data-urlencode merchant_name=新大学
17. its card system (the sandbox answers endpoint, username, password) and a student's card:
              curl -s ${cardsys}/control/schools ${j} -d '{"code":"4132010002","name":"新大学"}'
              curl -s ${cardsys}/control/schools/4132010002/cards ${j} -d '{"cardNo":"30260001","name":"赵六","studentNo":"N2026001","balanceFen":1000}'
18. connect (tested with GetPersonInfo), activate, look (Alipay's .query answer included):
              echo '<password>' > /tmp/pw; ${tool} operator -- school connect-cardsys 4132010002 --endpoint <endpoint> --username <username> --password-file /tmp/pw
              ${tool} operator -- school activate 4132010002;  ${tool} operator -- school show 4132010002
19. its first recharge: a new Alipay user logs in as in step 1 (userId from this answer), then steps 3–5 with
    the new school's id and card 30260001 赵六, studentNo N2026001 (paid to 新大学's own Alipay account):
              curl -s ${alipay}/control/users ${j} -d '{"balanceFen":30000}'
20. its owner: ${tool} operator -- admin invite --school 4132010002 --role owner   (redeem it as in step 13)
    the school withdraws its authorization in Alipay (then it is SUSPENDED; school link + step 16 lifts it):
              curl -s ${alipay}/control/merchant-authorizations/cancel ${j} -d '{"isvAppId":"${appId}","authAppId":"<school show: alipay.authAppId>"}'

The card in the Alipay card wallet (docs/membercard.md), after steps 3 and 8 (these need the alipayCardNo and
code from the answers before them, so they have no $ lines):
W1. claim it in the wallet (card management names the student by their open_id here):
              curl -s ${info.membercard}/control/claims ${j} -d '{"templateId":"${info.cardTemplates.student}","alipayUserId":"${info.studentOpenId}"}'
W2. open it in the wallet (balance and points from our CRM):
              curl -s ${info.membercard}/control/wallets/${info.studentOpenId}/cards/<alipayCardNo>
W3. show its dynamic code and pay with it at the canteen POS (APPROVED; the same code again: CODE_USED):
              curl -s -XPOST ${info.membercard}/control/wallets/${info.studentOpenId}/cards/<alipayCardNo>/code
              curl -s ${cardsys}/control/swipe ${j} -d '{"schoolCode":"${school.code}","dynamicCode":"<codeValue>","amountFen":800,"terminalId":"POS-01"}'
W4. after step 21 (loss) the wallet shows the 已挂失 template:
              curl -s ${info.membercard}/control/wallets/${info.studentOpenId}

A vending machine at the canteen door (VM-DEMO-01, README "Vending machines"): its operator takes 30 % of each
sale by royalty (the remainder fen stays with the school). These need the order's numbers from the answer
before them, so they have no $ lines:
V1. the machine makes an order of a cola and two bags of chips (¥12.00): the answer has both QR payloads,
    pay.qrCode (the Alipay camera, 当面付) and pay.miniProgramUrl (our payment page, pages/terminal-pay):
              curl -s ${info.vending.control}/orders ${j} -d '{"items":[{"name":"可乐","quantity":1,"unitFen":300},{"name":"薯片","quantity":2,"unitFen":450}]}'
V2. the student scans the QR with the Alipay app and pays (or opens the page in the mini-program and pays):
              curl -s ${alipay}/control/qr-codes/scan ${j} -d '{"qrCode":"<pay.qrCode>","userId":"${users.student}"}'
V3. the machine was told, signed (signatureValid), and the money split: the operator has 360 fen (30 %):
              curl -s ${info.vending.control}/callbacks
              curl -s ${alipay}/control/accounts/${info.vending.operatorAccount}
V4. the chips did not come out: the machine says so and 900 fen go back to the student at once, the
    operator's share in proportion (it keeps 90); the order, then the operator's account again:
              curl -s ${info.vending.control}/orders/<outOrderNo>/dispensed ${j} -d '{"result":"FAILED","failedItems":[{"index":1,"quantity":2}]}'
              curl -s ${alipay}/control/accounts/${info.vending.operatorAccount}
    The admins see the machine's orders: curl -s ${bff}/api/v1/admin/schools/${school.id}/terminal-orders -H "$A"

Loss and unbinding come last: they end what the steps above use.
21. report the student's card lost (the card system freezes it: swipes are declined), then 解挂 (found again):
    $ curl -s -XPOST ${bff}/api/v1/bindings/$BINDING/loss -H "$A"
    $ curl -s -XDELETE ${bff}/api/v1/bindings/$BINDING/loss -H "$A"
22. stop withholding and unbind, the student and then the parent (the walk can then start again at step 1):
    $ curl -s -XDELETE '${bff}/api/v1/withholding?schoolId=${school.id}' -H "$A"
    $ curl -s -XDELETE ${bff}/api/v1/bindings/$BINDING -H "$A"
    $ curl -s -XDELETE '${bff}/api/v1/withholding?schoolId=${school.id}' -H "$P"
    $ curl -s -XDELETE ${bff}/api/v1/bindings/$CHILD1 -H "$P"; curl -s -XDELETE ${bff}/api/v1/bindings/$CHILD2 -H "$P"

Mini-program: BFF_URL=${bff} npm run build:miniprogram, then open dist/miniprogram in the Alipay IDE.
Stop with Ctrl-C, or from elsewhere \`kill ${info.pid}\` (SIGTERM), also what systemd and docker stop send: a graceful
stop, PostgreSQL included. The next start keeps everything: the database, the sandboxes' books (agreements
included) and the gateway credentials; after a kill -9 it takes over the data folder and the database.
`;
}
