// translateHtml with fake translators: sentences (Intl.Segmenter) uppercased, reversed word by
// word (which shows where the tags go), taken from a table, or left alone (the identity, which must
// give the input back byte for byte, also for generated tag soups).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { assemble } from '../../../src/mt/text/document.js';
import { type BlockTranslation, htmlBlocks, translateHtml } from '../../../src/mt/text/html.js';
import { mulberry32 } from '../../helpers/random.js';

const SENTENCES = new Intl.Segmenter('en', { granularity: 'sentence' });

/** A translateBlocks that translates each sentence with `f` and records what it was given. */
function fake(f: (sentence: string) => string): { translate: (blocks: string[]) => Promise<BlockTranslation[]>; calls: string[][] } {
  const calls: string[][] = [];
  const translate = async (blocks: string[]): Promise<BlockTranslation[]> => {
    calls.push(blocks);
    return blocks.map((b) => {
      const units = [...SENTENCES.segment(b)].flatMap((s) => {
        const core = s.segment.trim();
        const start = s.index + s.segment.indexOf(core);
        return core === '' ? [] : [{ start, end: start + core.length }];
      });
      return assemble(
        b,
        units,
        units.map((u) => f(b.slice(u.start, u.end))),
      );
    });
  };
  return { translate, calls };
}

const upper = (s: string): string => s.toUpperCase();
const reverse = (s: string): string => s.split(/\s+/).reverse().join(' ');
/** Every block unchanged, one span over all of it. */
const identity = async (blocks: string[]): Promise<BlockTranslation[]> =>
  blocks.map((b) => ({ text: b, spans: [{ src: [0, b.length], tgt: [0, b.length] }] }));

async function translated(html: string, f: (s: string) => string): Promise<{ out: string; sent: string[] }> {
  const t = fake(f);
  const out = await translateHtml(html, t.translate);
  assert.ok(t.calls.length <= 1, `translateBlocks called ${t.calls.length} times`);
  return { out, sent: t.calls[0] ?? [] };
}

/** `parts` occur in `s` in this order. */
function assertInOrder(s: string, parts: string[]): void {
  let at = 0;
  for (const p of parts) {
    const i = s.indexOf(p, at);
    assert.ok(i >= 0, `${JSON.stringify(p)} missing (after offset ${at}) in ${JSON.stringify(s)}`);
    at = i + p.length;
  }
}

describe('translateHtml', () => {
  test('tags and attributes are kept byte for byte', async () => {
    const html = `<p class="a"  id=x data-y='z'>Hello <a href="https://x.y/?a=1&amp;b=2" title="A title">world</a>.</p>`;
    const { out, sent } = await translated(html, upper);
    assert.deepEqual(sent, ['Hello world.']);
    assert.equal(out, `<p class="a"  id=x data-y='z'>HELLO <a href="https://x.y/?a=1&amp;b=2" title="A title">WORLD</a>.</p>`);
  });

  test('the model sees decoded entities; translated text is escaped once; other text keeps its spelling', async () => {
    const html = '<p title="&amp;">Fish &amp; chips&nbsp;&#169; &lt;3 &#x1F600;</p>\n<p>&mdash;&nbsp;&#42;</p><!-- &amp; -->';
    const { out, sent } = await translated(html, upper);
    assert.deepEqual(sent, ['Fish & chips\u00a0© <3 😀']);
    assert.equal(out, '<p title="&amp;">FISH &amp; CHIPS&nbsp;© &lt;3 😀</p>\n<p>&mdash;&nbsp;&#42;</p><!-- &amp; -->');
    // A sentence that comes back unchanged keeps its entities as written.
    assert.equal(await translateHtml(html, identity), html);
  });

  test('script, style, code, pre, textarea and translate="no" are not translated', async () => {
    const keep = [
      '<code>npm ci</code>',
      '<script>var s = "Hello there";</script>',
      '<style>p::after { content: "Styled text"; }</style>',
      '<pre>\n  Preformatted words\n</pre>',
      '<textarea name=t>Typed words</textarea>',
      '<p translate="no">Keep this paragraph</p>',
      '<span TRANSLATE="No">Brand Name</span>',
      '<noscript>Enable scripts</noscript>',
      '<svg><text>Svg label</text></svg>',
    ];
    const html = `<p>Run ${keep[0]} now.</p>${keep[1]}${keep[2]}${keep[3]}<div>${keep[4]}</div>${keep[5]}<p>We love ${keep[6]} a lot.</p>${keep[7]}<p>Icon ${keep[8]} here.</p>`;
    const { out, sent } = await translated(html, upper);
    for (const k of keep) assert.ok(out.includes(k), `${k} changed in ${out}`);
    const all = sent.join('\n');
    for (const word of ['npm', 'Hello', 'Styled', 'Preformatted', 'Typed', 'Keep', 'Brand', 'Enable', 'Svg']) {
      assert.ok(!all.includes(word), `${word} was sent: ${JSON.stringify(sent)}`);
    }
    assert.deepEqual(sent, ['Run  now.', 'We love  a lot.', 'Icon  here.']);
    assertInOrder(out, ['<p>RUN ', keep[0]!, ' NOW.</p>', '<p>WE LOVE ', keep[6]!, ' A LOT.</p>']);
  });

  test('translate="yes" under translate="no" is translated again', async () => {
    const html = '<div translate="no">Brand <span translate="yes">translate this</span> stays<p translate="">and this</p></div>';
    const { out, sent } = await translated(html, upper);
    assert.deepEqual(sent, ['translate this', 'and this']);
    assert.equal(out, '<div translate="no">Brand <span translate="yes">TRANSLATE THIS</span> stays<p translate="">AND THIS</p></div>');
  });

  test('nested inline tags keep their nesting and order', async () => {
    const html = '<p>This is <b>very <i>important</i></b> text.</p>';
    assert.equal((await translated(html, upper)).out, '<p>THIS IS <b>VERY <i>IMPORTANT</i></b> TEXT.</p>');
    // "text. important very is This": <i> wraps the copied word, <b> keeps it inside.
    assert.equal((await translated(html, reverse)).out, '<p>text. <b><i>important</i> very is</b> This</p>');
  });

  test('text copied by the translation is wrapped exactly', async () => {
    const table: Record<string, string> = { 'Ask Marie Curie about radium.': 'Demandez à Marie Curie pour le radium.' };
    const html = '<p>Ask <b>Marie Curie</b> about <a href="/r">radium</a>.</p>';
    const { out } = await translated(html, (s) => table[s] ?? s);
    // Proportional placement alone would start <b> at "à" (4/29 of the source, 5/38 of the target).
    assert.equal(out, '<p>Demandez à <b>Marie Curie</b> pour le <a href="/r">radium</a>.</p>');
  });

  test('an exact match is a whole word: "is" is not found inside "This"', async () => {
    const table: Record<string, string> = { 'This is it.': 'This, it is.' };
    const { out } = await translated('<p>This <b>is</b> it.</p>', (s) => table[s] ?? s);
    assert.equal(out, '<p>This, it <b>is</b>.</p>');
  });

  test('exact matches in a target without spaces (Japanese)', async () => {
    const table: Record<string, string> = { 'Visit Tokyo today.': '今日Tokyoを訪問してください。' };
    const { out } = await translated('<p>Visit <a href="/t">Tokyo</a> today.</p>', (s) => table[s] ?? s);
    assert.equal(out, '<p>今日<a href="/t">Tokyo</a>を訪問してください。</p>');
  });

  test('stray and unclosed inline tags do not pair with others', async () => {
    const html = '<p>Stray</b> then <b>bold</b> and <i>open text.</p>';
    const { out } = await translated(html, upper);
    assert.equal(out, '<p>STRAY</b> THEN <b>BOLD</b> AND <i>OPEN TEXT.</p>');
  });

  test('a tag across two sentences maps each end within its own sentence', async () => {
    const html = '<p>One two three. Four <b>five six. Seven</b> eight nine.</p>';
    const { out } = await translated(html, reverse);
    // Sentences: "three. two One" | "six. five Four" | "nine. eight Seven".
    assert.equal(out, '<p>three. two One six. <b>five Four nine.</b> eight Seven</p>');
  });

  test('an element whose text was not copied still wraps a word', async () => {
    const table: Record<string, string> = { 'I like it a lot.': 'Es gefällt mir sehr.' };
    const { out } = await translated('<p>I like <em>it</em> a lot.</p>', (s) => table[s] ?? s);
    assert.match(out, /<em>[\p{L}]+<\/em>/u);
  });

  test('a whole document: doctype, head and title, body', async () => {
    const html = [
      '<!DOCTYPE html>',
      '<html lang="en">',
      '<head>',
      '  <meta charset="utf-8">',
      '  <title>My page</title>',
      '  <style>h1 { color: red; }</style>',
      '</head>',
      '<body>',
      '  <h1>Welcome</h1>',
      '  <p>Hello <a href="/x">world</a>. Nice day.</p>',
      '  <script>var s = "Hello";</script>',
      '</body>',
      '</html>',
      '',
    ].join('\n');
    const { out, sent } = await translated(html, upper);
    assert.deepEqual(sent, ['My page', 'Welcome', 'Hello world. Nice day.']);
    const expected = html
      .replace('My page', 'MY PAGE')
      .replace('Welcome', 'WELCOME')
      .replace('Hello <a href="/x">world</a>. Nice day.', 'HELLO <a href="/x">WORLD</a>. NICE DAY.');
    assert.equal(out, expected);
  });

  test('a fragment without any block tag is one block', async () => {
    const { out, sent } = await translated('Hello <b>big</b> world', upper);
    assert.deepEqual(sent, ['Hello big world']);
    assert.equal(out, 'HELLO <b>BIG</b> WORLD');
  });

  test('a table: every cell is a block', async () => {
    const html = '<table>\n  <tr><th>Name</th><th>Age</th></tr>\n  <tr><td>Alice</td><td>42</td></tr>\n</table>';
    const { out, sent } = await translated(html, upper);
    assert.deepEqual(sent, ['Name', 'Age', 'Alice', '42']);
    assert.equal(out, html.replace('Name', 'NAME').replace('Age', 'AGE').replace('Alice', 'ALICE'));
  });

  test('br and list items end blocks, so lines stay lines', async () => {
    const html = '<p>Line one<br>Line two</p><ul><li>First<li>Second</ul>';
    assert.deepEqual(htmlBlocks(html), ['Line one', 'Line two', 'First', 'Second']);
    assert.equal((await translated(html, upper)).out, '<p>LINE ONE<br>LINE TWO</p><ul><li>FIRST<li>SECOND</ul>');
  });

  test('blocks with only punctuation or whitespace are not sent', async () => {
    const html = '<p>Hello</p>\n<p> — … !</p><table><tr><td>  </td><td>&nbsp;</td></tr></table>';
    const { out, sent } = await translated(html, upper);
    assert.deepEqual(sent, ['Hello']);
    assert.equal(out, html.replace('Hello', 'HELLO'));
  });

  test('nothing to translate: the input is returned and translateBlocks is not called', async () => {
    for (const html of ['', '   ', '<p></p><!-- x -->', '<script>alert(1)</script>']) {
      const t = fake(upper);
      assert.equal(await translateHtml(html, t.translate), html);
      assert.equal(t.calls.length, 0);
    }
  });

  test('leading and trailing whitespace of a block stays around its translation', async () => {
    const html = '<td>\n  Hello\n</td>';
    const out = await translateHtml(html, async () => [{ text: 'Bonjour', spans: [{ src: [3, 8], tgt: [0, 7] }] }]);
    assert.equal(out, '<td>\n  Bonjour\n</td>');
  });

  test('htmlBlocks lists what translateHtml sends', async () => {
    const html = '<h1>Title</h1><p>Some <i>text</i> &amp; more.<br>Next line</p><code>x</code>';
    const { sent } = await translated(html, upper);
    assert.deepEqual(htmlBlocks(html), sent);
    assert.deepEqual(sent, ['Title', 'Some text & more.', 'Next line']);
  });

  const malformed: Array<[string, string[]]> = [
    ['<p>Unclosed <b>bold <i>italic', ['<p>', '<b>', '<i>']],
    ['<p>Stray</b> close</i> tags.</p>', ['<p>', '</b>', '</i>', '</p>']],
    ['<b>Bold <p>inside</p> after</b>', ['<b>', '<p>', '</p>', '</b>']],
    ['<p>Text</p><!-- never closed <p>x</p>', ['<p>', '</p>', '<!-- never closed <p>x</p>']],
    ['<p>a <<>> b and </> c</p>', ['<p>', '</>', '</p>']],
    [
      '<p class=intro data-x=1>Hi <a href=/y?a=1&b=2>there</a> you.</p>',
      ['<p class=intro data-x=1>', '<a href=/y?a=1&b=2>', '</a>', '</p>'],
    ],
    ['<p>1 < 2 and a lone <', ['<p>']],
    ['<p>Cut off <a href="x', ['<p>', '<a href="x']],
    ['<div><span>Overlap <b>one</span> two</b></div>', ['<div>', '<span>', '<b>', '</span>', '</b>', '</div>']],
    ['</p></div>Orphan closers', ['</p>', '</div>']],
    ['<table><b>Foster</b><tr><td>cell</table>', ['<table>', '<b>', '</b>', '<tr>', '<td>', '</table>']],
  ];
  for (const [html, tags] of malformed) {
    test(`malformed input keeps its tags: ${html}`, async () => {
      for (const f of [upper, reverse]) {
        const { out } = await translated(html, f);
        assert.equal(typeof out, 'string');
        assertInOrder(out, tags);
      }
      assert.equal(await translateHtml(html, identity), html);
    });
  }

  test('a wrong number of translations or a bad span is an error that says what and where', async () => {
    await assert.rejects(
      translateHtml('<p>a</p><p>b</p>', async () => [{ text: 'x', spans: [] }]),
      /expected 2 block translations .* found 1/,
    );
    await assert.rejects(
      translateHtml('<p>Hello</p>', async () => [{ text: 'Hallo', spans: [{ src: [0, 9], tgt: [0, 5] }] }]),
      /block 0 \("Hello"\), span 0: expected src within \[0, 5\]/,
    );
  });
});

function soup(random: () => number, pieces: readonly string[], maxLen: number): string {
  let s = '';
  const n = Math.floor(random() * maxLen);
  for (let i = 0; i < n; i++) s += pieces[Math.floor(random() * pieces.length)]!;
  return s;
}

const WORDS = ['Hello', 'world', 'Ça va?', '日本語です。', '42', 'x', '. ', '! ', ' ', '  ', '\n', '\u00a0', '😀', 'Dr. No', 'e.g. this'];
const ENTITIES = ['&amp;', '&nbsp;', '&#169;', '&#x1F600;', '&lt;b&gt;', '&quot;', '&bogus;'];
const TAGS = [
  '<p>',
  '</p>',
  '<b>',
  '</b>',
  '<i>',
  '</i>',
  '<em class="x">',
  '</em>',
  '<a href="https://x.y/?a=1&amp;b=2">',
  '</a>',
  '<div id=d>',
  '</div>',
  '<br>',
  '<br/>',
  '<img src="a.png" alt="An image">',
  '<span translate="no">',
  '<span translate=yes>',
  '</span>',
  '<li>',
  '</li>',
  '<td>',
  '</td>',
  '<h2>',
  '</h2>',
  '<!-- comment -->',
  '<code>npm ci</code>',
  '<wbr>',
];
const CHAOS = [
  ...TAGS,
  '<pre>',
  '</pre>',
  '<script>',
  '</script>',
  '<style>',
  '</style>',
  '<textarea>',
  '</textarea>',
  '<title>',
  '</title>',
  '<template>',
  '</template>',
  '<svg><text>t</text></svg>',
  '<!--',
  '-->',
  '<!DOCTYPE html>',
  '<?php x ?>',
  '<![CDATA[x]]>',
  '</>',
  '<',
  '>',
  '<<>>',
  '&',
  '&amp',
  '<b',
  '<a href="',
  '"',
  "'",
  '=',
  '/',
  '</b ',
  '<P CLASS=X>',
  '</B>',
  '<p/>',
  '</br>',
  '<plaintext>',
];

describe('translateHtml on generated tag soups', () => {
  test('the identity translation gives every soup back byte for byte, and nothing throws', async () => {
    const random = mulberry32(20261207);
    for (let i = 0; i < 60; i++) {
      const html = soup(random, [...CHAOS, ...WORDS, ...WORDS, ...ENTITIES], 60);
      assert.equal(await translateHtml(html, identity), html, `soup ${i}: ${JSON.stringify(html)}`);
      const { out, sent } = await translated(html, reverse);
      assert.equal(typeof out, 'string');
      assert.deepEqual(htmlBlocks(html), sent, `soup ${i}`);
    }
  });

  test('translation keeps every tag, in order (soups without raw text or lone "<")', async () => {
    const random = mulberry32(7);
    const markup = /<[^>]*>/g;
    for (let i = 0; i < 40; i++) {
      const html = soup(random, [...TAGS, ...WORDS, ...WORDS, ...ENTITIES], 50);
      for (const f of [upper, reverse]) {
        const { out } = await translated(html, f);
        assert.deepEqual(out.match(markup) ?? [], html.match(markup) ?? [], `soup ${i}: ${JSON.stringify(html)} → ${JSON.stringify(out)}`);
      }
    }
  });
});
