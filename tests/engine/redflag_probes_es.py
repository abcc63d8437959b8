"""Spanish and Spanglish universal red-flag families (#16), each in words of its own (not the corpus items), and the
look-alikes found by probing each new rule: they must stay quiet as that flag. Kept apart from the English probes so
the two can be tuned at the same time."""

from __future__ import annotations

ES_FAMILIES: dict[str, str] = {
    # holdout21: la sangre a borbotones (severe_bleeding)
    "se rebanó el dedo y sangra a borbotones": "severe_bleeding",
    "le sale la sangre a borbotones de la pierna": "severe_bleeding",
    "estoy sangrando a borbotones por la nariz": "severe_bleeding",
    # holdout22: darse de baja de este mundo (crisis)
    "quisiera darme de baja de esta vida": "crisis",
    "dice que se va a dar de baja del mundo": "crisis",
    # holdout20-21: me quito la vida, también tras un "si no ... mejor" (crisis)
    "a veces pienso que mejor me quito la vida": "crisis",
    "mi hermano dice que se quita la vida si lo dejan": "crisis",
    "si no se me quita ni con pastillas mejor me mato": "crisis",
    "me quito la vida si esto sigue así": "crisis",
    # holdout20-21: cortarse los muslos o los brazos, hacerse cortes en la piel (crisis)
    "mi hija se anda cortando los muslos": "crisis",
    "me hago cortes en las muñecas cuando estoy sola": "crisis",
    "se está haciendo cortaditas en los antebrazos": "crisis",
    # holdout22: el pecho que se cierra o se comprime (chest_pain)
    "siento que se me cierra el pecho": "chest_pain",
    "se le comprime el pecho y suda": "chest_pain",
    # holdout20-21: el dolor pasado al pecho, el chest (spanglish), el dolor opresivo o en medio del pecho (chest_pain)
    "el dolor del hombro se le subió al pecho": "chest_pain",
    "ahora la molestia la siento en el pecho": "chest_pain",
    "me duele en el pecho, como una presión fuerte": "chest_pain",
    "el dolor lo tiene en el pecho, como un apretón": "chest_pain",
    "el chest me duele bien feo": "chest_pain",
    "me aprieta el chest desde hace rato": "chest_pain",
    "un dolor opresivo que no se me quita": "chest_pain",
    "una presión fuerte en el centro del pecho": "chest_pain",
    # holdout22: la sonrisa que se cae de un lado (stroke)
    "se le cae la sonrisa de un lado": "stroke",
    "la sonrisa se le ve torcida desde hace rato": "stroke",
    # holdout20-21: el lado nombrado antes del verbo; no reconocer y hablar arrastrado (stroke)
    "todo el lado derecho se le durmió de golpe": "stroke",
    "la mitad izquierda que se me paralizó hace una hora": "stroke",
    "no nos reconoce y habla arrastrado": "stroke",
    "mi papá arrastra la lengua al hablar de repente": "stroke",
    # holdout20-22: la lengua o los labios gordos o que se engordan, la garganta apretada, con ronchas (anaphylaxis)
    "siento la lengua como gorda": "anaphylaxis",
    "los labios se me están engordando": "anaphylaxis",
    "la garganta se me siente bien cerrada": "anaphylaxis",
    "my throat se siente tight after the pill": "anaphylaxis",
    "me salió urticaria y la garganta la tengo apretada": "anaphylaxis",
    "tengo hives y los labios hinchados": "anaphylaxis",
    # holdout20-21: la cara o los ojos que se hinchan y el pecho que silba (anaphylaxis)
    "se le hincha la cara y le chilla el pecho": "anaphylaxis",
    # holdout20-21: las pastillas de otro por error, nombradas por su uso; sedantes con alcohol o juntos (overdose)
    "me confundí y le di las gotas de la presión de mi mamá": "overdose",
    "me tomé el tramadol con unas chelas y ando re atontado": "overdose",
    "se tomó el clonazepam y las pastillas de dormir juntas, está bien ido": "overdose",
    "tomé unas birras y luego el relajante, estoy muy mareado": "overdose",
    # holdout20-22: rompe del pecho hacia atrás, como si despegaran la espalda, algo roto por dentro (tearing_pain)
    "como un cuchillo que le parte del pecho para atrás": "tearing_pain",
    "siento como si me arrancaran la espalda": "tearing_pain",
    "como que me rasgaban algo adentro": "tearing_pain",
    "sentí que se me reventaba algo en la espalda, de repente": "tearing_pain",
    # holdout20-22: temblores de todo el cuerpo o de brazos y piernas con un signo de convulsión (seizure)
    "le dieron sacudidas de brazos y piernas y no nos veía": "seizure",
    "tembló de todo el cuerpo y quedó como ida": "seizure",
    "con unos temblores horribles se mordió la lengua": "seizure",
    "mi hijo tuvo temblores muy fuertes y se puso azul": "seizure",
    "tuvo sacudidas violentas y quedó como perdida": "seizure",
    # holdout20-21: pura sangre que sale; los trapos llenos, contados (severe_bleeding)
    "me salió pura sangre de la nariz": "severe_bleeding",
    "le sale puritita sangre de la boca": "severe_bleeding",
    "se cortó y ya van cuatro toallas empapadas": "severe_bleeding",
    # holdout23: irse de este mundo, dicho sin "quiero" o ya preparado; las piernas cortadas en presente (crisis)
    "ya lo tengo todo listo para irme de esta vida": "crisis",
    "siento que ya me voy de este mundo, no aguanto": "crisis",
    "mi mamá dice que quiere irse de este mundo": "crisis",
    "mi hijo se corta las piernas con una navaja": "crisis",
    "me corto las piernas cuando me siento mal": "crisis",
    "mi novia se cortaba las piernas y ahora otra vez": "crisis",
    "me voy de este mundo tan feo, ya no aguanto": "crisis",
    # holdout23: look-alikes found while probing; the families the narrowed rule still catches: todas las pastillas
    # tomadas como plan, no como rutina (crisis)
    "ganas de tomar todas las pastillas": "crisis",
    "quiero tomar todas mis pastillas y dormir para siempre": "crisis",
    "si esto sigue así me tomo todas las pastillas y ya": "crisis",
    # holdout23: la cara y el brazo juntos, o media cara, con palabras en medio (stroke)
    "se le entumió de golpe la cara y la mano": "stroke",
    "se me adormeció hace rato media cara": "stroke",
    "tiene la boca y la mano del mismo lado dormidas": "stroke",
    # holdout23: los labios o la lengua como globos o salchichas; ronchas y respira con silbido (anaphylaxis)
    "la lengua se le puso como una salchicha": "anaphylaxis",
    "traigo la boca y los labios como globos": "anaphylaxis",
    "tiene ronchas y respira silbando": "anaphylaxis",
    "le salieron habones, al respirar le chilla": "anaphylaxis",
    # holdout23: todas las pastillas de una vez, las de la semana o el pastillero entero (overdose)
    "se tragó de golpe todas sus pastillas": "overdose",
    "me tomé por error las pastillas de toda la semana": "overdose",
    "se tomó el pastillero entero": "overdose",
    "mi mamá se tomó las pastillas de la semana de una vez": "overdose",
    # holdout23: algo que se rasga entre los omóplatos en cualquier tiempo; como si le rajaran o abrieran la espalda
    # (tearing_pain)
    "sentí que algo se le desgarraba entre las paletas": "tearing_pain",
    "como si algo se me rompiera en medio de la espalda": "tearing_pain",
    "como si me abrieran el pecho con una navaja por dentro": "tearing_pain",
    "como si le partieran la espalda con un hacha desde adentro": "tearing_pain",
    "como si me abrieran la espalda en canal, me vino de la nada": "tearing_pain",
    "como si le rasgaran el pecho y se le va bajando a la panza": "tearing_pain",
    "me dio un dolor horrible, como desgarrado, de repente": "tearing_pain",
    # holdout23: la toalla o la compresa llena cada cuarto de hora o en minutos (severe_bleeding)
    "cambio la toalla cada cuarto de hora": "severe_bleeding",
    "traspaso las compresas en 20 minutos": "severe_bleeding",
    "lleno dos toallas nocturnas por hora": "severe_bleeding",
    "estoy sangrando y empapo la toalla cada 15 minutos, me mojé con agua": "severe_bleeding",
    # holdout22: look-alikes found while probing; the families the narrowed rules still catch: cortarse las piernas
    # con una navaja, a propósito, o cuando otro no le cree la depilación (crisis); el dolor de pecho que se pasó pero
    # volvió o con otra señal, el dolor pasado AL pecho, un bebé en el pecho con dolor, un peso en el pecho sin el bebé
    # encima (chest_pain)
    "me estoy cortando las piernas con una navaja": "crisis",
    "me estoy cortando los muslos a propósito, no es de depilarme": "crisis",
    "dice que se corta depilándose pero yo creo que se está cortando las piernas": "crisis",
    "el dolor de pecho se me pasó pero volvió": "chest_pain",
    "el dolor de pecho se me pasó y ahora me duele el brazo": "chest_pain",
    "se me quitó el dolor de pecho un rato pero otra vez me aprieta": "chest_pain",
    "el dolor de la cintura se me fue al pecho, ya estoy bien de la cintura": "chest_pain",
    "mi bebé duerme en mi pecho y me duele el pecho como un peso": "chest_pain",
    "cargué al bebé y ahora siento un peso en el pecho": "chest_pain",
    # holdout23 round: "se inflaron" named (holdout7's "se me inflaron la lengua" was caught only by typos.py reading
    # inflaron as a misspelling, which any flow naming the word would stop)
    'a mi hijo se le inflaron los labios después del maní': 'anaphylaxis',
    # holdout23 round: veto audit (a look-alike named in the same clause as the flag said in full no longer vetoes it)
    'a mi hijo se le inflaron los labios después del maní y le duele la boca del estómago': 'anaphylaxis',
    'la mitad izquierda se me paralizó hace una hora, los niños me tienen loca': 'stroke',
    'la mitad izquierda se me paralizó hace una hora y tengo frenos': 'stroke',
    'la mitad izquierda se me paralizó hace una hora y vengo del dentista': 'stroke',
    'no nos reconoce y habla arrastrado por la anestesia': 'stroke',
    'me duele el pecho con sudor frío y me falta el aire por la pena': 'chest_pain',
    'me duele el pecho y el brazo izquierdo de tanto reírme': 'chest_pain',
    'con unos temblores horribles se mordió la lengua y tuvo un ataque de pánico': 'seizure',
    'con unos temblores horribles se mordió la lengua y se quedó rígido de miedo': 'seizure',
    'a veces pienso que mejor me quito la vida y me mata cargar al niño': 'crisis',
    'quiero suicidarme y se me cortó la respiración': 'crisis',
    'cambio la toalla cada cuarto de hora y estoy llorando': 'severe_bleeding',
    'a veces pienso que mejor me quito la vida y me corté el pelo': 'crisis',
    'me tomé todo el frasco de pastillas y me dijeron que no lo mezcle con alcohol': 'overdose',
    'se tomó una caja entera de tylenol y el doctor dijo que no lo mezcle con alcohol': 'overdose',
    # holdout23 round: an arm or the face paralysed, said with "se paralizó" (found by the look-alike audit)
    'se me paralizó el brazo derecho': 'stroke',
    'de repente se le paralizó la cara a mi mamá': 'stroke',
    # veto audit: la fiebre, el frío o el miedo no callan una convulsión dicha con una señal fuerte (seizure)
    "a mi niña con la fiebre le dieron temblores de todo el cuerpo y se puso morada": "seizure",
    "con la fiebre tan alta le dieron sacudidas de brazos y piernas y se puso moradito": "seizure",
    "con la fiebre le dieron sacudidas de todo el cuerpo y no nos respondía": "seizure",
    # holdout24: no encontrar las palabras, lo que se cae de una mano nombrada, borracho sin beber (stroke)
    "mi mamá de repente no encuentra sus palabras": "stroke",
    "a mi papá le cuesta encontrar las palabras desde hace una hora": "stroke",
    "mi mamá no encuentra las palabras y me dice que le duele": "stroke",
    "se le caen las cosas de la mano izquierda": "stroke",
    "se me resbala la taza de la mano derecha desde hace rato": "stroke",
    "parece borracho pero no ha tomado nada": "stroke",
    "habla como borracha sin haber tomado": "stroke",
    # holdout24: ni una frase con el "ni" en medio, el ahogo como causa (breathing)
    "no puedo ni terminar una frase": "breathing",
    "mi mamá no alcanza a acabar las frases": "breathing",
    "no termina ni una oración, respira rapidísimo": "breathing",
    "mi abuelo no puede ni caminar del ahogo": "breathing",
    "está con mucho ahogo": "breathing",
    # holdout24: un puño, un chorro o un montón de pastillas, a puños (overdose)
    "se tragó un chorro de tylenol": "overdose",
    "me tomé un montón de calmantes": "overdose",
    "se tomaba los calmantes a puños": "overdose",
    # holdout24: no mira aunque le griten o lo sacudan; ojos abiertos, mirada perdida (unresponsive)
    "no me mira aunque le grite": "unresponsive",
    "no reacciona por más que la sacudo": "unresponsive",
    "no contesta aunque lo muevo": "unresponsive",
    "está con la mirada perdida y no responde": "unresponsive",
    "tiene los ojos abiertos pero no contesta": "unresponsive",
    # holdout24: algo que revienta o truena, empapada, el bebé que quiere salir o empuja hacia abajo (labor)
    "estoy embarazada y sentí algo que tronó abajo": "labor",
    "tengo 34 semanas y estoy empapada": "labor",
    "estoy de 30 semanas y siento que el bebé está empujando hacia abajo": "labor",
    "estoy embarazada de 30 semanas y sentí que algo se reventó ahí abajo": "labor",
    "no se mueve aunque lo sacuda": "unresponsive",
    # holdout25: irse con un difunto; la despedida y todo en orden; cuántas pastillas para no despertar; en el puente
    # pensando en aventarse; estrellar el carro contra un camión (crisis)
    "esta noche me voy con mi difunta madre": "crisis",
    "ya quiero irme con mi esposo que en paz descanse": "crisis",
    "ya me despedí de mis hijos y dejé todo arreglado": "crisis",
    "cuántas de estas se necesitan pa ya no despertar nunca": "crisis",
    "cuantas pastillas para morirse": "crisis",
    "estoy en el puente pensando en aventarme": "crisis",
    "se subió al techo y dice que va a saltar": "crisis",
    "pienso que sería mejor estrellar el auto contra un camión": "crisis",
    "me dan ganas de estrellarme contra un árbol": "crisis",
    # holdout25: nada o todo oscuro del ojo derecho; medio cuerpo dormido (stroke)
    "de pronto no veo nada del ojo izquierdo": "stroke",
    "se le puso todo oscuro del ojo derecho": "stroke",
    "se le durmió medio cuerpo de golpe": "stroke",
    "tengo medio cuerpo entumido": "stroke",
    # holdout25: la boca como trompa o la cara como pelota, con tragar que cuesta, ronquera o comezón (anaphylaxis)
    "se le hizo la boca como trompa y no puede tragar": "anaphylaxis",
    "tiene la cara como pelota y se rasca todo": "anaphylaxis",
    "después del antibiótico tengo los labios como globo y la voz ronca": "anaphylaxis",
    # holdout25: un sedante con media botella; el niño que abrió el frasco y faltan; productos con paracetamol juntos o
    # diez o más al día (overdose)
    "mezcló el clonazepam con media botella de tequila": "overdose",
    "la niña destapó el bote de la medicina de la abuela y faltan unas": "overdose",
    "mi hijo agarró el pastillero, le saqué dos de la boca": "overdose",
    "tomo el tylenol y el antigripal juntos, los dos traen acetaminofén": "overdose",
    "me tomo unas 14 tabletas de tylenol al día": "overdose",
    # holdout25: le están desgarrando el pecho; una rasgadura entre los omóplatos (tearing_pain)
    "siente como que le están desgarrando el pecho": "tearing_pain",
    "un dolor como de rasgadura entre los omoplatos": "tearing_pain",
    # holdout25: el aire que está faltando, cada respiración que cuesta (breathing)
    "me está faltando mucho el aire": "breathing",
    "cada respiración le cuesta": "breathing",
    # holdout25: no hay manera de que vuelva en sí, privada (unresponsive)
    "no hay manera de que vuelva en sí": "unresponsive",
    "la encontré privada en la cama": "unresponsive",
    # holdout25 (sondeo): debajo de un tren; la cara como globo y la comezón; amenaza con tirarse desde la azotea; la
    # despedida y todo en orden (crisis, anaphylaxis)
    "a veces pienso en meterme debajo de un tren": "crisis",
    "tengo la cara como globo y me pica todo después del camarón": "anaphylaxis",
    "mi novio se subió a la azotea y amenaza con tirarse": "crisis",
    "ya me despedí de todos, dejé todo en orden, ya no aguanto": "crisis",
    "me voy a reunir con mi difunto padre en el cielo": "crisis",
    # holdout25: lo del mes pasado ya pasó, pero algo ahora (debe sonar)
    "el mes pasado se me hinchó la boca pero ya pasó, ahora se me cierra la garganta": "anaphylaxis",
    "hace años tuve un derrame y ahora se me está cayendo la cara otra vez": "stroke",
}

ES_LOOK_ALIKES: dict[str, str] = {
    # "me mató" del esfuerzo, no de matarse (crisis)
    "me mata cargar a mi hijo todo el dia": "crisis",
    "ayer me mato trabajando doble turno": "crisis",
    "me mató el gym de ayer, no me puedo ni sentar": "crisis",
    # la sobredosis de comida (overdose)
    "anoche sobredosis de papitas y galletas jaja": "overdose",
    "sobredosis de sal en la cena de mi suegra": "overdose",
    # un aparato que convulsiona o tiembla (seizure)
    "la compu tiembla cuando juega mi hijo": "seizure",
    "mi celular convulsiona cuando abro la app": "seizure",
    "la lavadora se sacude toda en el centrifugado": "seizure",
    # borbotones que no son sangre (severe_bleeding)
    "la llave echa agua a borbotones": "severe_bleeding",
    # holdout22: darse de baja de otra cosa (crisis)
    "me quiero dar de baja del gym, no puedo ir con la espalda": "crisis",
    "me di de baja de la clase de yoga por el dolor": "crisis",
    # holdout20-21: la vida que quita el trabajo; cortes que no son autolesión (crisis)
    "el trabajo me quita la vida jaja": "crisis",
    "me corté las piernas con la rasuradora": "crisis",
    "le estoy haciendo cortes al pelo de mi hija": "crisis",
    "me hice cortes en las manos cocinando": "crisis",
    "mejor no me hago daño, mejor hablo con mi terapeuta": "crisis",
    "mi vecino se quitó la vida el año pasado y me afectó mucho": "crisis",
    "el divorcio me quitó la vida social": "crisis",
    # holdout22: el pecho que se cierra de tristeza (chest_pain)
    "se me cierra el pecho de tristeza desde que se murió mi mamá": "chest_pain",
    # holdout20-21: el dolor que no se pasa al pecho, una cabeza opresiva, el chest day (chest_pain)
    "el dolor no se me pasa al pecho, solo la espalda": "chest_pain",
    "tengo un dolor opresivo de cabeza": "chest_pain",
    "el chest day del gym me dejó adolorido": "chest_pain",
    "me duele la espalda como un peso, el pecho está bien": "chest_pain",
    # holdout22: la sonrisa que se cae sin lado, la sonrisa de lado pícara (stroke)
    "se me cayó la sonrisa al ver la cuenta del hospital": "stroke",
    "tiene una sonrisa de lado muy coqueta": "stroke",
    # holdout20-21: el lado de la espalda dormido, el perro que no reconoce (stroke)
    "el lado izquierdo de la espalda se me durmió de estar sentada": "stroke",
    "mi perro no me reconoce cuando llego jaja": "stroke",
    # holdout20-22: la lengua de res, lo que engorda, los ojos hinchados de llorar, ronchas de mosquito (anaphylaxis)
    "la lengua de res estaba gorda y rica": "anaphylaxis",
    "me engorda la comida de mi suegra": "anaphylaxis",
    "se me hinchan los ojos de llorar y me falta el aire de tanto llorar": "anaphylaxis",
    "tengo ronchas de los mosquitos en las piernas": "anaphylaxis",
    # holdout20-21: los sedantes recetados juntos, la pregunta por la mezcla, el relajante de ayer (overdose)
    "tomo la gabapentina y el relajante como me recetó el doctor y estoy muy mareado": "overdose",
    "¿puedo tomar el relajante con unas cervezas?": "overdose",
    "me tomé el relajante ayer y hoy una cerveza y estoy muy bien": "overdose",
    # holdout20-22: arrancar la espalda de tanto cargar, algo roto en el carro (tearing_pain)
    "siento como si me arrancaran la espalda de tanto cargar cajas": "tearing_pain",
    "se me rompió algo en el carro, el espejo": "tearing_pain",
    # holdout20-22: temblar de frío, de nervios, tras el gym o de risa; una lavadora que se sacude (seizure)
    "tengo temblores en todo el cuerpo de frío y no para": "seizure",
    "tiemblo de todo el cuerpo por los nervios de la entrevista y no me oyen": "seizure",
    "me tiemblan los brazos y piernas después del gym y no para": "seizure",
    "temblores fuertes con la fiebre y no me responde el doctor": "seizure",
    "la lavadora da sacudidas fuertes y se cayó la tapa": "seizure",
    "a mi mamá le dan temblores fuertes en las manos, se cayó el vaso": "seizure",
    "tiene temblores fuertes en las manos y no para": "seizure",
    # holdout20-21: un caballo pura sangre, toallas llenas de otra cosa (severe_bleeding)
    "mi tío tiene un caballo pura sangre": "severe_bleeding",
    "me corté el pelo y las toallas llenas de pelo": "severe_bleeding",
    "se cortó la luz y las toallas quedaron empapadas en la lavadora": "severe_bleeding",
    "no salió pura sangre, solo un poquito en el papel": "severe_bleeding",
    # holdout23: irse de este mundo algún día, o de un mundo de otra cosa; las piernas que corta otra cosa (crisis)
    "antes de irme de este mundo quiero ver a mis nietos": "crisis",
    "cuando me toque irme de este mundo que sea sin dolor": "crisis",
    "mi abuela está a punto de irse de este mundo, tiene 98": "crisis",
    "antes de que me vaya de este mundo quiero arreglar mis cosas": "crisis",
    "ya tengo todo preparado para irme de vacaciones": "crisis",
    "las botas me cortan las piernas": "crisis",
    "se corta las piernas depilándose": "crisis",
    "quiero irme de esta vida loca de la ciudad": "crisis",
    # holdout23: look-alikes found while probing: todas las pastillas dichas como rutina, duda u olvido (crisis)
    "tengo que tomar todas mis pastillas a tiempo": "crisis",
    "¿debo tomar todas mis pastillas hoy aunque me duela la panza?": "crisis",
    "me tomo todas mis pastillas en la mañana como siempre": "crisis",
    "se me olvida tomar todas las pastillas": "crisis",
    # holdout23: la cara y el brazo dormidos del frío o la anestesia (stroke)
    "se me durmió la cara y la mano del frío": "stroke",
    "se me durmió la boca y el brazo por la anestesia": "stroke",
    # holdout23: los labios como globos deseados o de siempre; ronchas y respirar bien (anaphylaxis)
    "quiero los labios como globos con ácido hialurónico": "anaphylaxis",
    "tiene labios como salchichas de nacimiento jaja": "anaphylaxis",
    "tengo ronchas y respiro bien": "anaphylaxis",
    # holdout23: la pastilla semanal, las de la mañana, el pastillero armado (overdose)
    "me tomé la pastilla de la semana, la del hueso": "overdose",
    "me tomé esta mañana todas mis pastillas": "overdose",
    "le di de una vez todas sus medicinas de la mañana": "overdose",
    "armé el pastillero de toda la semana": "overdose",
    # holdout23: el dolor punzante como un cuchillo, la ciática, el músculo jalado "como desgarrado" (tearing_pain)
    "siento como si me clavaran un cuchillo en la espalda": "tearing_pain",
    "como si me partieran la espalda, me baja a la pierna": "tearing_pain",
    "me jalé la espalda, como un desgarre, me duele al levantarme": "tearing_pain",
    # holdout23: la toalla que se revisa, la de baño, la de sudor (severe_bleeding)
    "cada cuarto de hora reviso la toalla": "severe_bleeding",
    "cambio la toalla cada 8 horas": "severe_bleeding",
    "empapo la toalla de sudor cada media hora con esta fiebre": "severe_bleeding",
    "lleno la toalla de agua en un ratito": "severe_bleeding",
    # holdout22: look-alikes found while probing: cortes al depilarse, afeitarse o rasurarse (crisis); el dolor de pecho
    # que se pasó, dicho como acabado; un bebé, un niño o un gato que duerme en el pecho (chest_pain)
    "me estoy cortando las piernas depilándome": "crisis",
    "me corto las piernas cada vez que me rasuro": "crisis",
    "me corté el muslo afeitándome con el rastrillo nuevo": "crisis",
    "me hice cortes en las piernas al depilarme con cera y la cuchilla": "crisis",
    "el dolor de pecho se me pasó, ya estoy bien": "chest_pain",
    "ya se me quitó el dolor de pecho y me siento bien": "chest_pain",
    "tenía una molestia en el pecho anoche pero ya se me pasó, estoy bien": "chest_pain",
    "mi bebé duerme en mi pecho como un peso muerto": "chest_pain",
    "mi gato se echa sobre mi pecho y pesa como una piedra": "chest_pain",
    "el niño se quedó dormido encima de mi pecho como un costal": "chest_pain",
    # holdout23 round: an arm numb from carrying or sleeping on it, a face from the dentist's anaesthetic (stroke)
    'se me paralizó el brazo de tanto cargar la bolsa': 'stroke',
    'se me paralizó la cara por la anestesia del dentista': 'stroke',
    # veto audit: temblar de frío o de fiebre, morada del frío, o un perro, no una convulsión
    "temblaba de frío de todo el cuerpo, estaba morada del frío": "seizure",
    "tengo fiebre y tiemblo de todo el cuerpo": "seizure",
    "mi perro tiembla de todo el cuerpo y no nos responde cuando lo llamamos por los cohetes": "seizure",
    # holdout24: las palabras para agradecer o de la emoción; el vaso que se cayó una vez o por el túnel carpiano;
    # borracho de sueño o que sí tomó (stroke)
    "no encuentro las palabras para agradecerle": "stroke",
    "mi mamá no encuentra las palabras para agradecerles": "stroke",
    "no encuentro las palabras, gracias por todo": "stroke",
    "mi hija no encuentra las palabras, está muy emocionada": "stroke",
    "no encuentra las palabras adecuadas para explicarle": "stroke",
    "no encuentro las palabras de agradecimiento": "stroke",
    "se me cayó el vaso de la mano derecha": "stroke",
    "se me caen las cosas de la mano derecha por el túnel carpiano": "stroke",
    "se le cae el vaso de la mano derecha porque tiene artritis": "stroke",
    "ayer andaba como borracho de sueño pero no ha tomado": "stroke",
    "anda como borracho pero sí tomó": "stroke",
    # holdout24: la frase que no se termina sin llorar o sin groserías; el ahogo del calor o de las deudas (breathing)
    "no puedo terminar la frase sin llorar": "breathing",
    "mi hijo no termina ni una frase sin decir groserías": "breathing",
    "siento un ahogo de calor en esta casa": "breathing",
    "el ahogo de las deudas me tiene mal": "breathing",
    # holdout24: un montón o un chorro de otra cosa (overdose)
    "me tomé un montón de agua con la pastilla": "overdose",
    "tomé un chorro de agua": "overdose",
    "le di un puño de dulces": "overdose",
    # holdout24: el hijo que no contesta aunque le griten; no mirar a los ojos; el bebé que no se duerme (unresponsive)
    "mi hijo no me contesta aunque le grite desde la cocina": "unresponsive",
    "tiene los ojos abiertos y no me mira a los ojos": "unresponsive",
    "mi bebé tiene los ojos abiertos y no se duerme": "unresponsive",
    # holdout24: empapada de sudor o de lluvia, un bebé de 8 meses mojado, ocho meses en un trabajo (labor)
    "estoy de 8 meses y empapada de sudor por el calor": "labor",
    "mi bebé de 8 meses amaneció empapado": "labor",
    "tengo 8 meses trabajando aquí y estoy empapada de la lluvia": "labor",
    "estoy embarazada y se me reventó un globo en la fiesta": "labor",
    # holdout24 round: found while probing: something broken in the kitchen, a balloon at a party, a baby of 20 weeks
    # (labor); a dog that will not move (unresponsive); keys dropped from the cold (stroke)
    "estoy embarazada y algo se rompió en la cocina": "labor",
    "estoy embarazada y se me rompió algo en la cocina": "labor",
    "estoy de 7 meses y un globo reventó en la fiesta de mi hijo": "labor",
    "mi hijo tiene 20 semanas de nacido y está empapado": "labor",
    "mi perro no se mueve aunque le grite": "unresponsive",
    "se le caen las llaves de la mano derecha cuando tiene frío": "stroke",
    # holdout25: la visita al panteón o a misa con el difunto; la despedida antes de un viaje o de una cirugía;
    # saltar a la alberca, de alegría o al otro lado; el choque de verdad o el miedo a chocar (crisis)
    "mañana me voy con mi difunto esposo al panteón a dejarle flores": "crisis",
    "voy con mi difunta madre a la misa del domingo": "crisis",
    "me despedí de mis nietos porque se van de viaje, dejé todo listo para el viaje": "crisis",
    "dejé todo arreglado para la cirugía, ya me despedí de mis hijos antes de entrar": "crisis",
    "estoy en la azotea tendiendo ropa y quiero saltar a la alberca": "crisis",
    "estoy en el techo arreglando la antena y voy a brincar al otro lado": "crisis",
    "mi hijo está en el balcón pensando en brincar de alegría": "crisis",
    "casi me estrello contra un camión en la carretera": "crisis",
    "me da miedo chocar contra un camión": "crisis",
    "el coche de mi hermano se estrelló contra un poste": "crisis",
    "cuánto falta para morirme de la risa con este programa": "crisis",
    # holdout25: borroso de un ojo desde hace años, el ojo morado; medio cuerpo dormido de estar sentado (stroke)
    "veo borroso del ojo derecho desde hace años": "stroke",
    "tengo el ojo derecho morado del golpe": "stroke",
    "se me durmió medio cuerpo de estar sentado en el avión": "stroke",
    # holdout25: la trompa del enojo, la boca dormida del dentista, la cara como globo de tanto comer (anaphylaxis)
    "mi hijo pone la boca como trompa cuando está enojado y no quiere comer": "anaphylaxis",
    "me pusieron anestesia en el dentista y tengo la boca como trompa, me cuesta tragar": "anaphylaxis",
    "comió tanto que tiene la cara como globo jaja": "anaphylaxis",
    # holdout25: la mezcla preguntada; el frasco abierto sin que falte nada; galletas; la pregunta por el
    # paracetamol; dos tabletas al día (overdose)
    "¿puedo mezclar el relajante con una copa de vino?": "overdose",
    "mi hijo abrió el frasco de pastillas pero no falta ninguna": "overdose",
    "mi hija abrió la caja de galletas y se comió todas": "overdose",
    "¿el antigripal y el tylenol los dos tienen paracetamol?": "overdose",
    "ninguno tiene paracetamol, lo revisé": "overdose",
    "tomo 2 tabletas de paracetamol al día": "overdose",
    # holdout25: el trabajo que parte la espalda (tearing_pain); el dinero que falta (breathing); privado de la
    # libertad, un hospital o un cuarto privado (unresponsive)
    "me está partiendo la espalda el trabajo de cargar cajas": "tearing_pain",
    "me está faltando el dinero para la renta": "breathing",
    "está privado de su libertad desde hace un año": "unresponsive",
    "me atendieron en un hospital privado": "unresponsive",
    "estoy en un cuarto privado del hospital": "unresponsive",
    # holdout25 (sondeo): la despedida antes de operarse; brincar por la pelota; la vista perdida de hace años; la cara
    # como pelota de un grano, los ojos del llanto; la ropa rasgada; privado de sueño; el tiempo que falta
    "me despedí de mi familia y dejé todo listo, mañana me opero": "crisis",
    "estoy en el techo y voy a brincar a la casa del vecino por la pelota": "crisis",
    "no veo nada del ojo derecho desde la operación de hace 10 años": "stroke",
    "me salió un grano y tengo la cara como pelota, me pica": "anaphylaxis",
    "después de llorar tengo los ojos como pelota": "anaphylaxis",
    "me están rasgando la ropa los perros": "tearing_pain",
    "está privado de sueño por el bebé": "unresponsive",
    "me está faltando tiempo para todo": "breathing",
    # holdout25: una reacción del mes pasado, ya pasada; la respiración cortada un momento, no la piel
    "el mes pasado se me hincharon los labios con unos camarones pero ya pasó": "anaphylaxis",
    "el año pasado se me hinchó la cara por una picadura, ya estoy bien": "anaphylaxis",
    "el susto me cortó la respiración un momento": "crisis",
    "la tos le cortó el aire un segundo": "crisis",
}
