// Non-breaking prefixes of the Moses tokenizer for en, de and fr (mosesdecoder
// scripts/share/nonbreaking_prefixes/nonbreaking_prefix.{en,de,fr}, as shipped by sacremoses):
// a word in this list followed by '.' does not end a sentence, so the '.' stays attached.
// `numericOnly` words keep their '.' only when a number follows ("No. 5").

export interface NonbreakingPrefixes {
  prefixes: ReadonlySet<string>;
  numericOnly: ReadonlySet<string>;
}

const UPPER = 'A B C D E F G H I J K L M N O P Q R S T U V W X Y Z';
const LOWER = 'a b c d e f g h i j k l m n o p q r s t u v w x y z';
const TITLES =
  'Adj Adm Adv Asst Bart Bldg Brig Bros Capt Cmdr Col Comdr Con Corp Cpl DR Dr Ens Gen Gov Hon Hosp ' +
  'Insp Lt MM MR MRS MS Maj Messrs Mlle Mme Mr Mrs Ms Msgr Op Ord Pfc Ph Prof Pvt Rep Reps Res Rev Rt ' +
  'Sen Sens Sfc Sgt Sr St Supt Surg';

function words(s: string): string[] {
  return s.split(/\s+/).filter((w) => w !== '');
}

function range(from: number, to: number): string[] {
  const out: string[] = [];
  for (let i = from; i <= to; i++) out.push(String(i));
  return out;
}

const ROMAN = 'I II III IV V VI VII VIII IX X XI XII XIII XIV XV XVI XVII XVIII XIX XX';

const EN: NonbreakingPrefixes = {
  prefixes: new Set([
    ...words(UPPER),
    ...words(TITLES),
    'Drs',
    'Hr',
    ...words('v vs i.e rev e.g Rs'),
    ...words('Nos Nr'),
    ...words('Jan Feb Mar Apr Jun Jul Aug Sep Oct Nov Dec'),
  ]),
  numericOnly: new Set(['No', 'Art', 'pp']),
};

const DE: NonbreakingPrefixes = {
  prefixes: new Set([
    ...words(UPPER),
    ...words(LOWER),
    ...words(ROMAN),
    ...words(ROMAN.toLowerCase()),
    ...words(TITLES),
    ...words(
      'Mio Mrd bzw v vs usw d.h z.B u.a etc MwSt ggf d.J D.h m.E vgl I.F z.T sogen ff u.E g.U g.g.A ' +
        'c.-à-d Buchst u.s.w sog u.ä Std evtl Zt Chr u.U o.ä Ltd b.A z.Zt spp sen SA k.o jun i.H.v ' +
        'dgl dergl Co zzt usf s.p.a Dkr bzgl BSE',
    ),
    ...words('No Nos Art Nr pp ca Ca'),
    ...range(1, 99), // German ordinals: "1." = "1st"
  ]),
  numericOnly: new Set(),
};

const FR: NonbreakingPrefixes = {
  prefixes: new Set([
    ...words(UPPER),
    ...words(LOWER).filter((w) => w !== 'a'), // 'a' is commented out in the French file
    ...words(
      'A.C.N A.M art ann apr av auj lib B.P boul ca c.-à-d cf ch.-l chap contr C.P.I C.Q.F.D C.N ' +
        'C.N.S C.S dir éd e.g env al etc E.V ex fasc fém fig fr hab ibid id i.e inf LL.AA LL.AA.II ' +
        'LL.AA.RR LL.AA.SS L.D LL.EE LL.MM LL.MM.II.RR loc.cit masc MM ms N.B N.D.A N.D.L.R N.D.T ' +
        'n/réf NN.SS N.S N.D N.P.A.I p.c.c pl pp p.ex p.j P.S R.A.S R.-V R.P R.I.P SS S.S S.A S.A.I ' +
        'S.A.R S.A.S S.E sec sect sing S.M S.M.I.R sq sqq suiv sup suppl tél T.S.V.P vb vol vs X.O Z.I',
    ),
  ]),
  numericOnly: new Set(),
};

export const NONBREAKING_PREFIXES: Readonly<Record<'en' | 'de' | 'fr', NonbreakingPrefixes>> = { en: EN, de: DE, fr: FR };
