// Language identification (src/server/detect.ts) on sentences written here: each placed right
// among {en, de, fr}, the candidate restriction, the reliability rule ([] for what cannot be
// placed), unsupported candidates, and batch placement weighted by length.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { type Detection, LanguageDetector } from '../../src/server/detect.js';

const SENTENCES: Record<string, string[]> = {
  en: [
    'The train to the airport leaves every twenty minutes.',
    'Could you please send me the report before Friday?',
    'My grandmother grows tomatoes in her garden.',
  ],
  de: [
    'Der Zug zum Flughafen fährt alle zwanzig Minuten.',
    'Kannst du mir bitte den Bericht vor Freitag schicken?',
    'Meine Großmutter baut Tomaten in ihrem Garten an.',
  ],
  fr: [
    "Le train pour l'aéroport part toutes les vingt minutes.",
    "Pourriez-vous m'envoyer le rapport avant vendredi ?",
    'Ma grand-mère cultive des tomates dans son jardin.',
  ],
};

/** Best first, confidences in (0, 100], languages among `candidates`. */
function assertWellFormed(d: Detection[], candidates: string[], where: string): void {
  for (const { language, confidence } of d) {
    assert.ok(candidates.includes(language), `${where}: ${language} is not a candidate (${candidates.join(', ')})`);
    assert.ok(confidence > 0 && confidence <= 100, `${where}: confidence ${confidence} outside (0, 100]`);
  }
  for (let i = 1; i < d.length; i++) assert.ok(d[i - 1]!.confidence >= d[i]!.confidence, `${where}: not best first: ${JSON.stringify(d)}`);
}

describe('LanguageDetector', () => {
  let enDeFr: LanguageDetector;
  before(async () => {
    enDeFr = await LanguageDetector.create(['en', 'de', 'fr']);
  });

  test('places each sentence in its language', () => {
    for (const [lang, lines] of Object.entries(SENTENCES)) {
      for (const line of lines) {
        const d = enDeFr.detect(line);
        assert.ok(d.length > 0, `${JSON.stringify(line)} was not placed`);
        assert.equal(d[0]!.language, lang, `${JSON.stringify(line)}: ${JSON.stringify(d)}`);
        assertWellFormed(d, ['en', 'de', 'fr'], JSON.stringify(line));
      }
    }
  });

  test('answers only among the candidates: French with {en, de} is never fr', async () => {
    const enDe = await LanguageDetector.create(['en', 'de']);
    let placed = 0;
    for (const line of SENTENCES.fr!) {
      const d = enDe.detect(line);
      assertWellFormed(d, ['en', 'de'], JSON.stringify(line));
      if (d.length > 0) placed++;
    }
    // eld often calls French unreliable among {en, de} ([]), but not always: the restriction is exercised.
    assert.ok(placed > 0, 'no French sentence was placed among {en, de}; the restriction was not exercised');
  });

  test('texts without letters, blank, or one short word give []', () => {
    for (const t of ['1234 !!!', '', '   ', '3.14 + 2 = 5.14', '?!', 'https://example.com 42', 'Hello', 'OK']) {
      assert.deepEqual(enDeFr.detect(t), [], JSON.stringify(t));
    }
  });

  test('an unsupported candidate is an error naming it and the library', async () => {
    await assert.rejects(LanguageDetector.create(['en', 'eo']), (e: Error) => e.message.includes("'eo'") && e.message.includes('eld'));
    await assert.rejects(LanguageDetector.create([]), /at least one candidate/);
    await assert.rejects(LanguageDetector.create(['pt-BR', 'pt-PT']), /'pt-BR' and 'pt-PT'/);
    await assert.rejects(LanguageDetector.create(['en'], { minConfidence: 50, threshold: 3 } as never), /unknown option\(s\) threshold/);
  });

  test('a region subtag is placed as its base language and answered as served', async () => {
    const d = await LanguageDetector.create(['en', 'pt-BR']);
    assert.deepEqual(d.candidates, ['en', 'pt-BR']);
    assert.equal(d.detect('O trem para o aeroporto sai a cada vinte minutos.')[0]?.language, 'pt-BR');
  });

  test('detectBatch places mixed texts together, weighted by length', () => {
    const mixed = [SENTENCES.de![0]!, SENTENCES.de![2]!, 'Hello world, how are you?', '1234 !!!'];
    const d = enDeFr.detectBatch(mixed);
    assertWellFormed(d, ['en', 'de', 'fr'], 'batch');
    assert.deepEqual(
      d.map((x) => x.language),
      ['de', 'en'],
    );
    // Two German sentences (~40 letters each) against one English (~19): about 81 / 19.
    assert.ok(d[0]!.confidence > 75 && d[0]!.confidence < 90, JSON.stringify(d));
    // One short German reply and one long English sentence: the long one outweighs it, where an
    // unweighted average would be a tie.
    const long = enDeFr.detectBatch(['Ja, gerne.', `${SENTENCES.en![0]!} The next one is already waiting on platform four.`]);
    assert.equal(long[0]!.language, 'en', JSON.stringify(long));
    assert.ok(long[0]!.confidence > 85, JSON.stringify(long));
  });

  test('detectBatch of texts that cannot be placed gives []', () => {
    assert.deepEqual(enDeFr.detectBatch(['', '1234 !!!', '   ']), []);
    assert.deepEqual(enDeFr.detectBatch([]), []);
  });
});
