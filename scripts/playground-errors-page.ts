/**
 * docs/errors.md as a standalone HTML page for the playground, so that an error's link works
 * offline. Each code's heading gets the id of its code in lower case (`#ein2004`). Handles the
 * Markdown that page uses: headings, paragraphs, lists, code fences, tables, inline code,
 * emphasis and links.
 */

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function inline(text: string): string {
  const parts = text.split(/(`[^`]*`)/);
  return parts
    .map((p) => {
      if (p.startsWith('`') && p.endsWith('`') && p.length >= 2) return `<code>${escape(p.slice(1, -1))}</code>`;
      return escape(p)
        .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
        .replace(/\*([^*]+)\*/g, '<em>$1</em>')
        .replace(/\[([^\]]+)\]\(([^)]+)\)/g, (_, label: string, href: string) => (href.endsWith('.md') ? label : `<a href="${href}">${label}</a>`));
    })
    .join('');
}

function headingId(text: string): string {
  const code = /^(EIN\d{4})\b/.exec(text);
  return code ? code[1].toLowerCase() : text.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

/** The HTML page for the Markdown text of docs/errors.md. */
export function errorsPage(markdown: string): string {
  const html: string[] = [];
  const lines = markdown.split('\n');
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.length > 0) html.push(`<p>${inline(paragraph.join(' '))}</p>`);
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const heading = /^(#{1,4})\s+(.*)$/.exec(line);
    if (line.startsWith('```')) {
      flush();
      const code: string[] = [];
      for (i++; i < lines.length && !lines[i].startsWith('```'); i++) code.push(lines[i]);
      html.push(`<pre><code>${escape(code.join('\n'))}</code></pre>`);
    } else if (heading) {
      flush();
      const level = heading[1].length;
      html.push(`<h${level} id="${headingId(heading[2])}">${inline(heading[2])}</h${level}>`);
    } else if (line.startsWith('|')) {
      flush();
      const rows: string[][] = [];
      for (; i < lines.length && lines[i].startsWith('|'); i++) rows.push(lines[i].split('|').slice(1, -1));
      i--;
      const body = rows.filter((r) => !r.every((c) => /^\s*:?-+:?\s*$/.test(c)));
      const cell = (c: string, k: number) => (k === 0 ? `<th>${inline(c.trim())}</th>` : `<td>${inline(c.trim())}</td>`);
      html.push(`<table>${body.map((r, k) => `<tr>${r.map((c) => cell(c, k)).join('')}</tr>`).join('')}</table>`);
    } else if (/^\s*[-*] /.test(line)) {
      flush();
      html.push(`<ul><li>${inline(line.replace(/^\s*[-*] /, ''))}</li></ul>`);
    } else if (line.trim() === '') flush();
    else paragraph.push(line.trim());
  }
  flush();
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><title>einnet error codes</title>',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<style>body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1d2330}',
    'code,pre{font-family:ui-monospace,monospace;background:#f2f4f8}pre{padding:.6rem;overflow:auto}',
    'h3{margin-top:2rem}:target{background:#fff4c2}table{border-collapse:collapse}td,th{border:1px solid #ccd;padding:.2rem .5rem}</style>',
    '</head><body>',
    '<p><a href="index.html">← back to the playground</a></p>',
    ...html,
    '</body></html>',
    '',
  ].join('\n');
}
