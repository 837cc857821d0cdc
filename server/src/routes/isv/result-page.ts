/**
 * The plain page a school's staff sees in the browser after authorizing in Alipay (issue 10). Chinese, no
 * scripts, nothing but the outcome and what to do next.
 */

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function resultPage(input: { title: string; lines: string[]; isSuccess: boolean }): string {
  const color = input.isSuccess ? '#1677ff' : '#cf1322';
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escape(input.title)}</title>
<style>body{font-family:-apple-system,"PingFang SC",sans-serif;margin:3em auto;max-width:32em;padding:0 1em;color:#333}
h1{color:${color};font-size:1.4em}</style></head>
<body><h1>${escape(input.title)}</h1>${input.lines.map((line) => `<p>${escape(line)}</p>`).join('')}</body></html>
`;
}
