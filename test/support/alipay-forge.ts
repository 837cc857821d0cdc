import crypto from 'node:crypto';

/**
 * Builds a notification body the way Alipay signs one (ALIPAY.md §3.3: sorted k=v of every non-empty field
 * but sign and sign_type, RSA2). Tests use it to play an attacker (a key that is not Alipay's) or a
 * misbehaving Alipay (the sandbox's key over a wrong amount).
 */
export function signedNotification(
  fields: Record<string, string>,
  privateKeyPem: string,
): Record<string, string> {
  const form: Record<string, string> = { charset: 'utf-8', version: '1.0', sign_type: 'RSA2', ...fields };
  const content = Object.keys(form)
    .filter((key) => key !== 'sign' && key !== 'sign_type' && form[key] !== '')
    .sort()
    .map((key) => `${key}=${form[key]}`)
    .join('&');
  form.sign = crypto.sign('RSA-SHA256', Buffer.from(content, 'utf8'), privateKeyPem).toString('base64');
  return form;
}

export async function postNotification(url: string, form: Record<string, string>): Promise<string> {
  const response = await fetch(`${url}/notify/alipay`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
    body: new URLSearchParams(form).toString(),
  });
  return response.text();
}
