// The demo page served at GET /: pick a language pair (from GET /languages; "Detect language"
// for source "auto"), type a sentence or a paragraph, and watch it translated over the WebSocket
// /translate/stream: the paragraph is built sentence by sentence (each sentence shows its best
// beam while it decodes), the beams of the sentence that moved last evolve step by step, then
// the final n-best with scores. Kept as a TS string (tsc copies no HTML into dist/). No external
// assets.
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>resmlp translate</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d2330; }
  main { max-width: 860px; margin: 0 auto; padding: 24px; }
  h1 { font-size: 20px; margin: 0 0 16px; }
  .row { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; margin-bottom: 12px; }
  textarea { width: 100%; box-sizing: border-box; min-height: 80px; font: inherit; padding: 8px; border: 1px solid #c5cad3; border-radius: 6px; }
  select, input, button { font: inherit; padding: 4px 8px; }
  button { background: #2f5bd3; color: #fff; border: 0; border-radius: 6px; padding: 6px 16px; cursor: pointer; }
  button:disabled { background: #9aa7c7; cursor: default; }
  section { background: #fff; border: 1px solid #dde1e8; border-radius: 8px; padding: 12px 16px; margin-top: 16px; }
  h2 { font-size: 15px; margin: 0 0 8px; color: #4a5366; }
  table { border-collapse: collapse; width: 100%; }
  td, th { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eef0f4; vertical-align: top; }
  td.rank { width: 28px; color: #8a93a6; }
  td.score { font-variant-numeric: tabular-nums; color: #5b6478; width: 90px; }
  #status { color: #5b6478; }
  #paragraph { white-space: pre-wrap; min-height: 1.4em; }
  #paragraph .sent.live { color: #2f5bd3; }
  #paragraph .sent.wait { color: #a0a7b5; }
  .error { color: #b3261e; }
</style>
</head>
<body>
<main>
  <h1>resmlp translate</h1>
  <div class="row">
    <label>Pair <select id="pair"></select></label>
    <label>Beam <input id="beam" type="number" min="1" max="16" value="4" style="width:4em"></label>
    <label>n-best <input id="nbest" type="number" min="1" max="16" value="4" style="width:4em"></label>
  </div>
  <textarea id="text" placeholder="Type a sentence or a paragraph">A man is riding a bicycle.</textarea>
  <div class="row" style="margin-top:8px">
    <button id="go">Translate</button>
    <button id="stop" disabled>Cancel</button>
    <span id="status">connecting…</span>
  </div>
  <section>
    <h2>Translation <small id="sentences"></small></h2>
    <div id="paragraph"></div>
  </section>
  <section>
    <h2>Beams, <span id="which">sentence –</span>, step <span id="step">–</span> <small>(cumulative log-prob)</small></h2>
    <table id="beams"><tbody></tbody></table>
  </section>
  <section>
    <h2>Final n-best <small>(log-prob / length<sup>lenpen</sup>)</small></h2>
    <table id="final"><tbody></tbody></table>
  </section>
</main>
<script>
(() => {
  const $ = (id) => document.getElementById(id);
  const status = (s, err) => { $('status').textContent = s; $('status').className = err ? 'error' : ''; };
  let ws = null, nextId = 1, current = null;
  const rows = (tbody, items) => {
    tbody.replaceChildren(...items.map((b, i) => {
      const tr = document.createElement('tr');
      const rank = document.createElement('td'); rank.className = 'rank'; rank.textContent = String(i + 1);
      const text = document.createElement('td'); text.textContent = b.text;
      const score = document.createElement('td'); score.className = 'score'; score.textContent = b.score.toFixed(3);
      tr.append(rank, text, score);
      return tr;
    }));
  };
  // the paragraph being built: one span per sentence, its best beam while it decodes
  let sents = [];
  const showParagraph = () => {
    $('paragraph').replaceChildren(...sents.flatMap((x, i) => {
      const span = document.createElement('span');
      span.className = 'sent ' + x.state; span.dataset.i = String(i); span.textContent = x.text || '…';
      return i === 0 ? [span] : [document.createTextNode(' '), span];
    }));
  };
  const busy = (on) => { $('go').disabled = on || !ws || ws.readyState !== 1; $('stop').disabled = !on; };
  fetch('languages').then((r) => r.json()).then((langs) => {
    const names = Object.fromEntries(langs.map((l) => [l.code, l.name]));
    // targets that are not also sources have no name in /languages: ask the browser
    let display = null;
    try { display = new Intl.DisplayNames(['en'], { type: 'language' }); } catch (e) { /* old browser: codes */ }
    for (const l of langs) for (const t of l.targets) if (!names[t] && display) names[t] = display.of(t);
    const add = (value, label) => { const o = document.createElement('option'); o.value = value; o.textContent = label; $('pair').append(o); };
    const targets = new Set();
    for (const l of langs) for (const t of l.targets) { add(l.code + '-' + t, l.name + ' → ' + (names[t] || t)); targets.add(t); }
    for (const t of [...targets].sort()) add('auto-' + t, 'Detect language → ' + (names[t] || t));
  }).catch((e) => status('cannot list languages: ' + e, true));
  const connect = () => {
    ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + location.pathname.replace(/[^/]*$/, '') + 'translate/stream');
    ws.onopen = () => { status('ready'); busy(false); };
    ws.onclose = () => { status('disconnected; reconnecting…', true); busy(false); setTimeout(connect, 1000); };
    ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data);
      if (m.id !== current) { if (m.error && m.id === undefined) status(m.error, true); return; }
      if (m.sentences) {
        sents = m.sentences.map(() => ({ text: '', state: 'wait' }));
        $('sentences').textContent = '(' + m.sentences.length + (m.sentences.length === 1 ? ' sentence' : ' sentences') + (m.detectedLanguage ? ', detected ' + m.detectedLanguage.language + ' ' + m.detectedLanguage.confidence.toFixed(0) + '%' : '') + ')';
        showParagraph();
      }
      else if (m.beams) {
        const x = sents[m.sentence];
        // the sentence's last step has no live beams left: keep the previous ones on screen
        if (m.beams.length > 0) {
          $('step').textContent = String(m.step); $('which').textContent = 'sentence ' + (m.sentence + 1) + ' of ' + sents.length;
          rows($('beams').tBodies[0], m.beams);
          if (x) { x.text = m.beams[0].text; x.state = 'live'; }
        } else if (x) x.state = 'done';
        showParagraph();
        status('decoding, sentence ' + (m.sentence + 1) + ', step ' + m.step);
      }
      else if (m.done) {
        rows($('final').tBodies[0], m.translations);
        $('paragraph').textContent = m.translations[0] ? m.translations[0].text : '';
        status('done'); current = null; busy(false);
      }
      else if (m.cancelled) { status('cancelled'); current = null; busy(false); }
      else if (m.error) { status(m.error, true); current = null; busy(false); }
    };
  };
  $('go').onclick = () => {
    const [source, target] = $('pair').value.split('-');
    current = nextId++;
    $('beams').tBodies[0].replaceChildren(); $('final').tBodies[0].replaceChildren(); $('step').textContent = '–';
    $('which').textContent = 'sentence –'; $('sentences').textContent = ''; sents = []; showParagraph();
    ws.send(JSON.stringify({ id: current, q: $('text').value, source, target, beam_size: Number($('beam').value), n_best: Number($('nbest').value) }));
    status('queued'); busy(true);
  };
  $('stop').onclick = () => { if (current !== null) ws.send(JSON.stringify({ id: current, cancel: true })); };
  connect();
})();
</script>
</body>
</html>
`;
