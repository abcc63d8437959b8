"""Spanish and Spanglish probes for the back flow's own flags (#16), each in words of its own (not the corpus
items), and the look-alikes found by probing each new rule. Kept apart from redflag_probes_back.py so the English
and the Spanish back flags can be tuned at the same time."""

from __future__ import annotations

BACK_ES_FAMILIES: dict[str, str] = {
    # holdout24 (es-b): lo que pasó "desde que" no lo niega el "no" de antes (major_trauma)
    "ya no puedo dormir desde que nos chocaron en la carretera": "major_trauma",
    "no puedo ni agacharme desde que me cayó una viga encima": "major_trauma",
    "no puedo trabajar desde que me tiró el caballo": "major_trauma",
    # holdout24 (es-b): al limpiarse no sentir el papel, o como si fuera de otro; toda la zona de la cola dormida
    # (saddle_numbness)
    "al limpiarme no siento el papel": "saddle_numbness",
    "mi mamá dice que cuando se limpia no siente el papel higiénico": "saddle_numbness",
    "el papel de baño ya no lo siento cuando me limpio": "saddle_numbness",
    "al limpiarme es como si fuera de otra persona": "saddle_numbness",
    "cuando me limpio siento como si tuviera un guante": "saddle_numbness",
    "se me durmió toda la zona de las nalgas desde ayer": "saddle_numbness",
    "tengo dormida la zona del trasero y no se me quita": "saddle_numbness",
    "se le durmió toda la cola a mi esposa y no se le quita": "saddle_numbness",
    # holdout24 (es-b): no subir la pierna, levantarla con las manos; los muslos dormidos o con hormigueo (legs)
    "no puedo subir la pierna derecha a la cama": "legs",
    "mi papá ya no puede subir los pies al carro": "legs",
    "la pierna la tengo que subir con las manos a la cama": "legs",
    "tiene que levantarse las piernas con las manos para acostarse": "legs",
    "se me entumieron los muslos desde anoche": "legs",
    "tengo hormigueo en los dos muslos": "legs",
    "mi mamá dice que los muslos no los siente": "legs",
    # holdout24 (es-b): 38 o más con la quimio o las defensas bajas (fever)
    "mi esposa está en quimioterapia y hoy amaneció con 38.5": "fever",
    "estoy en quimio y ya tengo 38": "fever",
    "con la quimio tiene las defensas bajas y ahora tiene 39": "fever",
    "mi hermano trasplantado anda en 38 hoy": "fever",
    # holdout24 (es-b): un vehículo que nos pegó o nos dio por atrás; un golpe durísimo y la espalda (major_trauma)
    "un tráiler nos pegó en la carretera": "major_trauma",
    "nos chocó una camioneta en el semáforo": "major_trauma",
    "un carro nos dio por atrás en el periférico": "major_trauma",
    "un taxi me dio de lado y me duele la espalda": "major_trauma",
    "le dieron una patada durísima en el partido, justo en la espalda": "major_trauma",
    "fue un golpe tremendo, caí sobre la espalda": "major_trauma",
    # holdout24 (es-b): el verbo primero y el dolor después; va a más o a peor (worsening_pain)
    "va en aumento la molestia de la cintura": "worsening_pain",
    "sigue empeorando el dolor aunque tomo las pastillas": "worsening_pain",
    "no para de subir el dolor": "worsening_pain",
    "el dolor va a peor cada día": "worsening_pain",
    "los espasmos van a más": "worsening_pain",
    # holdout24 (es-b): sentarse de golpe con esteroides de años (minor_fall_fragile)
    "mi mamá se sentó de golpe en el sillón y toma cortisona desde hace años": "minor_fall_fragile",
    "me dejé caer fuerte en la silla, llevo años con prednisona": "minor_fall_fragile",
    # holdout24 (es-b), found while narrowing: a word after the verb; what passed on walking was something else; the gym
    # said and the legs fail too
    "sigue aumentando mucho el dolor": "worsening_pain",
    "no siento las nalgas, ya se me pasó al caminar el mareo": "saddle_numbness",
    "no siento las nalgas, al caminar se me pasó el mareo": "saddle_numbness",
    "después del gym no siento los muslos y no puedo caminar": "legs",
    # holdout22: no sentir cuándo sale la orina (bladder_bowel)
    "no siento cuando se me sale el pipí": "bladder_bowel",
    # holdout22: desfallecer, un aneurisma sabido, sentir que uno se apaga; pálido y el pulso a mil en una lista (faint)
    "siento que desfallezco en el baño": "faint_shock_abdomen",
    "mi mamá está a punto de desfallecer, la espalda la tiene fatal": "faint_shock_abdomen",
    "tengo un aneurisma en la aorta y hoy me duele mucho la cintura": "faint_shock_abdomen",
    "a mi papá le vigilan un aneurisma y ahora le duele la espalda": "faint_shock_abdomen",
    "me duele la espalda, siento que me apago": "faint_shock_abdomen",
    "estoy pálido, sudando, con el pulso a mil": "faint_shock_abdomen",
    "se puso pálida, y el corazón le late a mil": "faint_shock_abdomen",
    # holdout24: la panza que le duele muchísimo a otro; doblado del dolor y frío (faint_shock_abdomen)
    "a mi mamá le duele horrible el estómago": "faint_shock_abdomen",
    "le duele muchísimo la barriga a mi esposo desde la mañana": "faint_shock_abdomen",
    "estoy doblada y helada": "faint_shock_abdomen",
    "la panza me tiene doblado": "faint_shock_abdomen",
    "me duele la barriga, estoy doblado": "faint_shock_abdomen",
    # holdout24: orinarse solo, con "se"; no sentir cuando sale el chorro; las ganas solas y no sale (bladder_bowel)
    "se orina sola desde anoche": "bladder_bowel",
    "mi abuelo se hace pipí solo y no se da cuenta": "bladder_bowel",
    "no siento cuando me sale el chorro": "bladder_bowel",
    "no noto cuando sale el chorrito de pipí": "bladder_bowel",
    "tengo ganas, pero no me sale nada": "bladder_bowel",
    "siente ganas pero no le sale": "bladder_bowel",
    # holdout22: no notar la orina que sale o solo por la ropa mojada (bladder_bowel)
    "mi papá no se da cuenta cuando le sale la orina": "bladder_bowel",
    "me doy cuenta hasta que tengo mojados los calzones": "bladder_bowel",
    "solo me di cuenta cuando vi el pantalón mojado": "bladder_bowel",
    # holdout22: un día sin orinar, dicho con "hace" (bladder_bowel)
    "hace un día que no orino y me duele la espalda": "bladder_bowel",
    "hace dos días que no ha orinado mi mamá": "bladder_bowel",
    # holdout22: no sentir ganas de ir (bladder_bowel)
    "no siento ganas de evacuar aunque llevo días": "bladder_bowel",
    "las ganas de ir al baño ya no las siento": "bladder_bowel",
    # holdout22: pujar o apretar para que salga la orina (bladder_bowel)
    "tengo que pujar para poder orinar": "bladder_bowel",
    "me cuesta trabajo empezar a hacer pipí desde el espasmo": "bladder_bowel",
    "tiene que apretar la panza para que le salga la orina": "bladder_bowel",
    # holdout22: no aguantar ni la orina (bladder_bowel)
    "ya no retengo ni el pipí": "bladder_bowel",
    # holdout22: intentar orinar y nada (bladder_bowel)
    "trato de hacer pipí y no sale": "bladder_bowel",
    "quise orinar y nada": "bladder_bowel",
    # holdout22: el chorro de la orina no sentido, no saber si se hizo (bladder_bowel)
    "el chorrito de pipí ya no lo siento": "bladder_bowel",
    "no siento el chorro cuando orino": "bladder_bowel",
    "al limpiarme no noto si hice": "bladder_bowel",
    # holdout22: la parte interna de los muslos dormida (saddle_numbness)
    "tengo dormida la cara interna de los muslos desde ayer": "saddle_numbness",
    "entre los muslos no siento nada cuando me toco": "saddle_numbness",
    "los muslos por dentro los siento como anestesiados": "saddle_numbness",
    # holdout22: nada en sus partes en infinitivo; el agua de la ducha o del bidé no sentida ahí (saddle_numbness)
    "¿es normal no notar nada en la entrepierna?": "saddle_numbness",
    "ya no siento el agua del bidé": "saddle_numbness",
    "en la regadera no siento el agua en mis partes": "saddle_numbness",
    "el chorro del bidé ya no lo siento": "saddle_numbness",
    # holdout22: no pararse de puntas o de talones (legs)
    "no me puedo parar en las puntas de los pies desde ayer": "legs",
    "no logro caminar de talones con la pierna izquierda": "legs",
    # holdout22: los dos pies dormidos; no saber dónde se pisa (legs)
    "ambos pies se me duermen desde el espasmo": "legs",
    "los dos pies los tengo dormidos": "legs",
    "no siento dónde piso, como si caminara raro": "legs",
    # holdout22: las piernas que se le durmieron a otro; ya no caminar (legs)
    "a mi papá se le entumieron las piernas": "legs",
    "se le durmieron los pies y no se los siente": "legs",
    "mi mamá ya no camina desde ayer": "legs",
    # holdout22: devolver todo lo que se come (fever)
    "todo lo que tomo lo regreso": "fever",
    "mi mamá devuelve hasta el agua": "fever",
    "todo lo que le doy de comer lo echa": "fever",
    # holdout22: la fiebre de veras sigue contando junto a la regla del entusiasmo (fever)
    "tengo fiebre de 39 desde anoche": "fever",
    "tengo fiebre de noche y escalofríos": "fever",
    # holdout22: caerse del tapanco, del altillo o del tejado; caer contra un tubo o una barra (major_trauma)
    "se cayó del altillo de la bodega": "major_trauma",
    "me resbalé del tejado limpiando las canaletas": "major_trauma",
    "se fue de espaldas contra la barra de fierro": "major_trauma",
    "me caí sobre un tubo de metal en la obra": "major_trauma",
    # holdout22: la volcadura, y lo que no se puede desde ella (major_trauma)
    "tuvimos una volcadura en la autopista": "major_trauma",
    "no puedo ni caminar desde la volcadura": "major_trauma",
    # holdout22: otro jugador encima, la rodilla en la columna (major_trauma)
    "uno me cayó encima en el tacleo": "major_trauma",
    "me cayó con todo su peso en la espalda": "major_trauma",
    # holdout22: la altura dicha a pedazos; un crujido oído al caer (major_trauma)
    "me caí, del techo, como cuatro metros": "major_trauma",
    "me caí de la escalera y oí un crac en la espalda": "major_trauma",
    # holdout22: cada vez le duele más; peor aunque no se levante (worsening_pain)
    "cada vez nos duele más la cintura a los dos": "worsening_pain",
    "a mi papá le duele cada vez peor la espalda": "worsening_pain",
    "le duele más aunque no sale de la cama": "worsening_pain",
    "está peor aunque sigue todo el día acostado": "worsening_pain",
    # holdout22: quejarse más cada hora; pasar de molesto a insoportable (worsening_pain)
    "cada día se queja más mi abuelo": "worsening_pain",
    "me quejo más cada hora": "worsening_pain",
    "pasó de leve a terrible en un día": "worsening_pain",
    "el dolor pasó de un 3 a un 9 desde ayer": "worsening_pain",
    # holdout22: deslizarse de la silla o de la cama al piso a los 60 o más, o con esteroides (minor_fall_fragile)
    "mi abuela de 84 se deslizó de la cama hasta el suelo": "minor_fall_fragile",
    "tengo 77 años y me escurrí de la silla al piso": "minor_fall_fragile",
    "tomo prednisona hace años y me deslicé del sofá al suelo": "minor_fall_fragile",
    # holdout22: el dolor que late o arranca al acostarse; que duela más en la cama; dormir sentado (rest_night_pain)
    "apenas me recuesto me empieza a punzar": "rest_night_pain",
    "en cuanto se acuesta le late la espalda": "rest_night_pain",
    "¿es normal que me duela más acostada?": "rest_night_pain",
    "mi papá termina dormido sentado en el reclinable": "rest_night_pain",
    # holdout22: moverse alivia y el reposo empeora, en dos frases (rest_night_pain)
    "caminar me alivia, acostada me punza": "rest_night_pain",
    "moverme me ayuda, quieta me late": "rest_night_pain",
    "andar me hace bien, descansando me duele peor": "rest_night_pain",
    # holdout22: the same families, found while narrowing them (major_trauma, saddle_numbness, legs, worsening_pain)
    "mi papá se cayó, del techo, como tres metros": "major_trauma",
    "se cayó de la escalera y se oyó un crujido": "major_trauma",
    "me caí ayer del tapanco": "major_trauma",
    "entre los muslos no siento nada": "saddle_numbness",
    "mi abuela ya no camina, se le doblan las rodillas": "legs",
    "ya no camina desde el martes": "legs",
    "pasó de ser un dolor leve a insoportable": "worsening_pain",
    # holdout22: look-alikes found while probing: the families the narrowed rules must still catch: wetting oneself
    # with no water said (bladder_bowel); nothing felt down there, not pain (saddle_numbness); standing, or tiptoe with
    # no reaching, both feet asleep with no cold said (legs); a fall of metres with the height said (major_trauma)
    "me mojé otra vez y no llegué al baño": "bladder_bowel",
    "me estoy mojando los pantalones y no lo siento": "bladder_bowel",
    "mojé los calzones sin darme cuenta": "bladder_bowel",
    "no siento nada de nada ahí abajo": "saddle_numbness",
    "mi mamá no siente nada en las nalgas": "saddle_numbness",
    "el trasero no lo siento desde ayer": "saddle_numbness",
    "no puedo pararme de puntitas desde ayer": "legs",
    "ya no puede pararse sola": "legs",
    "tengo los dos pies dormidos desde la mañana": "legs",
    "las piernas entumidas desde ayer, no sé por qué": "legs",
    "me caí como de tres metros de altura": "major_trauma",
    "mi esposo se cayó de unos tres metros del techo de la casa": "major_trauma",
    "me caí como tres metros del andamio": "major_trauma",
    # holdout23: ya no aguantar la caca o la orina, dicho de otro (bladder_bowel)
    "mi abuelo no retiene la orina desde el espasmo": "bladder_bowel",
    "ya no aguanta el pipí, se moja todo el tiempo": "bladder_bowel",
    "no aguanto las heces de noche": "bladder_bowel",
    # holdout23: la ropa mojada y "ni cuenta me di", "no me enteré" (bladder_bowel)
    "me paré con los calzones mojados y ni cuenta me di": "bladder_bowel",
    "la cama mojada y no me di cuenta cuando pasó": "bladder_bowel",
    # holdout23: la entrepierna como si no fuera de uno; tocarse ahí y no sentir (saddle_numbness)
    "tengo las nalgas como si no fueran mías": "saddle_numbness",
    "mi mamá dice que la cola la siente como si no fuera suya desde ayer": "saddle_numbness",
    "me toco la entrepierna y no siento nada": "saddle_numbness",
    "al limpiarme ahí abajo no siento": "saddle_numbness",
    # holdout23: las piernas pesadas como plomo y no poder subir o caminar (legs)
    "tengo las patas como de cemento y no puedo subir ni un escalón": "legs",
    "las piernas me pesan como plomo, me cuesta caminar": "legs",
    "mi mamá tiene los pies pesados, apenas puede caminar": "legs",
    # holdout23: alguien que está hirviendo o que arde; frío y calor; no poder calentarse (fever)
    "mi niño está que arde y le duele la espalda": "fever",
    "estoy hirviendo y me duele la cintura": "fever",
    "lo toco y está hirviendo, y se queja de la espalda": "fever",
    "me dan frío y calor desde anoche": "fever",
    "no logro entrar en calor aunque estoy tapado": "fever",
    # holdout23: tumbado por un animal, con "lo" o "la"; aplastado o prensado; las bolsas de aire; chocar de lado o de
    # frente; metros de espaldas (major_trauma)
    "a mi esposo lo tiró la yegua": "major_trauma",
    "la revolcó un toro en la feria": "major_trauma",
    "el tractor lo prensó contra la barda": "major_trauma",
    "quedé prensado entre el camión y la pared": "major_trauma",
    "se activaron los airbags y me duele la espalda": "major_trauma",
    "me reventó la bolsa de aire en la cara": "major_trauma",
    "chocamos de frente contra otro carro": "major_trauma",
    "caí como de tres metros de espaldas": "major_trauma",
    # holdout23: sigue en aumento sin nombrarlo; cada espasmo más fuerte; más cada hora; le sube y le sube; "cada vez
    # peor" tras "no puedo hacer nada y" (worsening_pain)
    "y sigue aumentando": "worsening_pain",
    "cada punzada es peor que la otra": "worsening_pain",
    "me duele más cada día": "worsening_pain",
    "cada hora aprieta más": "worsening_pain",
    "mi hija dice que el dolor le sube y le sube": "worsening_pain",
    "no me sirve nada y cada vez está peor": "worsening_pain",
    "nada me ayuda y cada día me duele más": "worsening_pain",
    # holdout23: saltarse, no ver o pisar mal el escalón, a los 60 o más (minor_fall_fragile)
    "mi papá de 80 no vio el escalón de la entrada": "minor_fall_fragile",
    "me salté un escalón, tengo 78 años": "minor_fall_fragile",
    "mi abuelo de 90 pisó mal el escalón y le duele la espalda": "minor_fall_fragile",
    # holdout23: en la cama le duele más (de otro); de noche es otra cosa (rest_night_pain)
    "mi esposa dice que en la cama le duele más la cintura": "rest_night_pain",
    "en la noche ya es otra historia": "rest_night_pain",
    "acostada es otro cuento": "rest_night_pain",
    # holdout23 round: el estreñimiento junto a no poder orinar o perder el control no es el parecido
    'no puedo orinar y estoy estreñida': 'bladder_bowel',
    'tomé un laxante y me hice encima sin darme cuenta': 'bladder_bowel',
    # holdout23 round: veto audit (a look-alike named in the same clause as the flag said in full no longer vetoes it)
    'estoy hirviendo y mi hijo tuvo gripa': 'fever',
    'estoy hirviendo y mi perro vomitó': 'fever',
    'tengo fiebre y escalofríos y mi esposo tuvo covid': 'fever',
    'chocamos en la carretera y perdimos el conocimiento': 'major_trauma',
    'a mi esposo lo tiró la yegua y se me cayó el celular': 'major_trauma',
    'no controlo la orina y mi nieto de 5 años se hizo pipí': 'bladder_bowel',
    'no puedo orinar desde ayer y el perro se orinó en el sofá': 'bladder_bowel',
    'a mi papá le vigilan un aneurisma y ahora le duele la espalda y está rendido en la cama': 'faint_shock_abdomen',
    'tiene un aneurisma y le duele mucho la espalda y se quedó dormida viendo la tele': 'faint_shock_abdomen',
    'al limpiarme ahí abajo no siento y lo demás todo normal': 'saddle_numbness',
    'me atropellaron hoy y hace años me operaron de la espalda': 'major_trauma',
    'a mi esposo lo tiró la yegua anoche y en 2010 se rompió la pierna': 'major_trauma',
    # holdout25: la orina que se va sin control, andar mojándose, "lo que no puedo es orinar", seis horas o más
    # sin orinar, sin echar ni gota (bladder_bowel)
    "a mi mamá se le sale la orina sin querer desde ayer": "bladder_bowel",
    "se me escapa el pipí sin darme cuenta": "bladder_bowel",
    "lo que no logra es hacer pipí, lo intenta y nada": "bladder_bowel",
    "ya van 10 horas que no orina mi esposo": "bladder_bowel",
    "llevo como ocho horas sin poder orinar": "bladder_bowel",
    "desde anoche no echo ni una gota": "bladder_bowel",
    # holdout25: perder la sensibilidad del periné, los glúteos o las nalgas (saddle_numbness)
    "casi no tengo sensación en los glúteos desde ayer": "saddle_numbness",
    "perdí la sensibilidad de las nalgas": "saddle_numbness",
    "mi esposa dice que ha perdido la sensibilidad en la entrepierna": "saddle_numbness",
    # holdout25: las piernas de plomo o cemento y no sostenerse de pie; "legs" y "weak" dentro del español (legs)
    "las patas como de cemento, no me sostengo de pie": "legs",
    "mis legs se sienten super weak desde ayer": "legs",
    "my legs no me responden": "legs",
    # holdout25: la caída dicha como nombre o desde lo alto; la caída que no se contó (major_trauma)
    "no le conté a la doctora que me caí del techo la semana pasada": "major_trauma",
    "la caída del caballo fue el domingo y desde ahí me duele": "major_trauma",
    "se me olvidó decirles que mi esposo se cayó desde el balcón": "major_trauma",
    # holdout25: en vez de mejorar, empeora; de molestia a horrible; peor que esta mañana; sigue subiendo aunque
    # esté quieto (worsening_pain)
    "en lugar de aliviarse va peor cada día": "worsening_pain",
    "de un dolorcito pasó a ser horrible": "worsening_pain",
    "le duele más, está peor que esta mañana": "worsening_pain",
    "la molestia sigue aumentando aunque no me mueva": "worsening_pain",
    # holdout25: irse al piso o al suelo, un traspié, con esteroides de años (minor_fall_fragile)
    "tomo prednisona hace años y ayer me fui al suelo en la cocina": "minor_fall_fragile",
    "llevo años con cortisona y tuve un tropezón en la banqueta": "minor_fall_fragile",
    # holdout25: el dolor que se dispara al acostarse; en la cama la espalda duele muchísimo; levantarse llorando
    # del dolor (rest_night_pain)
    "apenas me acuesto se me dispara el dolor de la espalda": "rest_night_pain",
    "en la cama la espalda me duele muchísimo": "rest_night_pain",
    "mi esposa se levanta llorando del dolor a medianoche": "rest_night_pain",
    # holdout25: una fiebre de ahora otra vez; peor desde ayer (debe sonar)
    "tuve fiebre el mes pasado y hoy otra vez tengo fiebre": "fever",
    "la semana pasada iba de mal en peor y desde ayer esta peor": "worsening_pain",
}

BACK_ES_LOOK_ALIKES: dict[str, str] = {
    # holdout24 (es-b): "desde que" no deshace la negación de lo dicho antes (major_trauma, fever)
    "no me he caído desde que uso andadera": "major_trauma",
    "no he tenido fiebre desde que me vacuné": "fever",
    # holdout24 (es-b): limpiarse la cara, el papel en los dedos, sentirse ajeno sin más, la cola del banco, de estar
    # sentado (saddle_numbness)
    "cuando me limpio la cara siento como si no fuera mi cuerpo": "saddle_numbness",
    "no siento el papel en los dedos por el frío": "saddle_numbness",
    "siento como si no fuera mi cuerpo, tengo mucha ansiedad": "saddle_numbness",
    "me quedé dormido en la cola del banco": "saddle_numbness",
    "se me durmió la cola de estar sentado en el camión": "saddle_numbness",
    "no encuentro el papel de baño": "saddle_numbness",
    "se me durmió el niño en la cola del súper": "saddle_numbness",
    # holdout24 (es-b): los muslos cansados, rozados, de estar sentado, de pollo; una caja, la escalera (legs)
    "tengo los muslos muertos de tanto correr": "legs",
    "los muslos me arden por el roce del pantalón": "legs",
    "se me durmieron los muslos de estar sentado en el avión": "legs",
    "compré muslos de pollo y me duele la espalda de cargar": "legs",
    "la caja la tengo que levantar con las manos": "legs",
    # holdout24 (es-b): una edad, las sesiones de quimio (fever)
    "estoy en quimio y tengo 38 años": "fever",
    "mi papá terminó la quimio, tiene 38 años y le duele la espalda": "fever",
    "con la quimio llevo 38 sesiones": "fever",
    "mi esposo tiene 38 y me duele la espalda": "fever",
    # holdout24 (es-b): un aventón, problemas, un susto; un golpe duro para la familia, en el dedo (major_trauma)
    "el camión nos dio un aventón al pueblo": "major_trauma",
    "el carro nos dio problemas toda la semana": "major_trauma",
    "un carro nos pegó un susto en la esquina": "major_trauma",
    "fue un golpe duro para la familia, ahora me duele la espalda": "major_trauma",
    "me di un golpe fuerte en el dedo del pie": "major_trauma",
    # holdout24 (es-b): más o menos igual, la gasolina, un precio, negado, una pregunta (worsening_pain)
    "el dolor va a más o menos igual": "worsening_pain",
    "la gasolina va a más cada semana": "worsening_pain",
    "sigue subiendo el precio de la medicina": "worsening_pain",
    "no sigue subiendo el dolor, está igual": "worsening_pain",
    "¿va a subir el dolor si camino?": "worsening_pain",
    # holdout24 (es-b): sentarse de golpe en la cama; a los 30 sin esteroides (minor_fall_fragile)
    "me senté de golpe en la cama al oír la alarma, tomo prednisona": "minor_fall_fragile",
    "me senté de golpe en la silla, tengo 30 años": "minor_fall_fragile",
    # holdout24 (es-b), found while narrowing: the rent rising, grandchildren or blood pressure of 38, a fright, a heat
    # stroke, the thighs after spinning, the seat asleep on the trip and gone on walking
    "la renta sigue subiendo y el dolor está igual": "worsening_pain",
    "mi papá está en quimio y ahora tiene 38 nietos": "fever",
    "el doctor de quimio dice que hoy tengo 38 de presión": "fever",
    "el camión nos pegó un buen susto en la autopista": "major_trauma",
    "un golpe fuerte de calor en la espalda": "major_trauma",
    "después del spinning tengo hormigueo en los muslos": "legs",
    "tengo hormigueo en los muslos después del spinning": "legs",
    "se me durmió la zona de la cola en el viaje en autobús pero ya se me pasó al caminar": "saddle_numbness",
    "se me durmieron las nalgas en el viaje, ya se me pasó al caminar": "saddle_numbness",
    # la fiebre de un partido, no del cuerpo (fever)
    "tengo fiebre de futbol con el mundial jaja": "fever",
    # holdout22: desfallecer de hambre, un aneurisma del cerebro o de otro ya muerto, helada del susto (faint)
    "casi desfallezco de hambre en la fila del banco": "faint_shock_abdomen",
    "mi papá murió de un aneurisma hace años y a mí me duele la espalda": "faint_shock_abdomen",
    "mi tía tiene un aneurisma cerebral, a mí me duele la espalda de cargar": "faint_shock_abdomen",
    "me quedé helada del susto y el corazón a mil": "faint_shock_abdomen",
    "me puse pálida de la impresión, con el corazón a mil por la noticia": "faint_shock_abdomen",
    "estoy helada por el aire, el corazón acelerado del ejercicio": "faint_shock_abdomen",
    "siento que me voy de vacaciones pronto": "faint_shock_abdomen",
    "siento que me voy a recuperar pronto": "faint_shock_abdomen",
    # holdout24: doblado de la espalda o por el espasmo, con frío de la casa, la panza bien (faint)
    "estoy doblado de la espalda desde ayer": "faint_shock_abdomen",
    "ando doblado por el espasmo": "faint_shock_abdomen",
    "estoy doblado y con frío porque no hay calefacción": "faint_shock_abdomen",
    "le duele poquito la panza": "faint_shock_abdomen",
    "me duele la espalda, la panza bien, ando doblado": "faint_shock_abdomen",
    # holdout24: orinar solo sin ayuda; las ganas de popó o de llorar, o con el estreñimiento dicho después; el chorro
    # de la regadera (bladder_bowel)
    "mi papá ya puede orinar solo sin ayuda": "bladder_bowel",
    "mi papá ya se orina solo en el baño, sin pañal": "bladder_bowel",
    "mi hijo ya va solo al baño": "bladder_bowel",
    "tengo ganas pero no me sale, estoy estreñido": "bladder_bowel",
    "tengo ganas de hacer popó pero no me sale": "bladder_bowel",
    "tengo ganas pero no me sale, hace tres días que no hago popó": "bladder_bowel",
    "tengo ganas de llorar pero no me sale": "bladder_bowel",
    "no siento el chorro de la regadera": "bladder_bowel",
    "mi nieta tiene 3 meses y se orina sola": "bladder_bowel",
    # holdout22: la popó de días (estreñimiento), "y nada raro", la lluvia, las ganas que no se tienen (bladder_bowel)
    "hace un día que no hago popó": "bladder_bowel",
    "tengo que pujar para hacer popó porque estoy estreñida": "bladder_bowel",
    "intenté orinar y nada raro, salió normal": "bladder_bowel",
    "fui a orinar y nada de ardor": "bladder_bowel",
    "me di cuenta porque tenía el pantalón mojado por la lluvia": "bladder_bowel",
    "me di cuenta de que la ropa del tendedero estaba mojada": "bladder_bowel",
    "no tengo ganas de ir al baño con este dolor": "bladder_bowel",
    "ya no aguanto ni el dolor ni el cansancio": "bladder_bowel",
    "no siento el chorro de la regadera caliente": "bladder_bowel",
    "no sé si hice bien en venir": "bladder_bowel",
    "no sé si hice la cita o no": "bladder_bowel",
    # holdout22: los muslos de estar sentado o rozados, el agua fría, la presión del bidé (saddle_numbness)
    "se me durmió la parte interna de los muslos de estar sentado en el carro": "saddle_numbness",
    "la parte interna de los muslos me arde por el roce": "saddle_numbness",
    "no siento el agua caliente, el boiler no sirve": "saddle_numbness",
    "no siento el chorro del bidé muy fuerte, está bajita la presión": "saddle_numbness",
    # holdout22: los zapatos, a oscuras, caminar menos que antes o desde hace años (legs)
    "los dos pies me duelen por los zapatos nuevos": "legs",
    "no sé dónde piso a oscuras en mi cuarto": "legs",
    "mi abuela ya no camina tanto como antes": "legs",
    "mi abuelo ya no camina desde hace años por la artritis": "legs",
    "ya no camino al trabajo, me voy en carro": "legs",
    "ni de puntitas alcanzo la repisa de arriba": "legs",
    # holdout22: devolver compras; la fiebre de ver o de jugar (fever)
    "todo lo que compro en línea lo devuelvo": "fever",
    "devuelvo todo lo que no me queda": "fever",
    "ando con fiebre mundialista jaja": "fever",
    "tengo fiebre de jugar en la liga otra vez": "fever",
    # holdout22: una volcadura vista, ninguna caída, la distancia de una casa, un celular, estirarse, un perro o una
    # nieta encima, un niño que se cayó sin más (major_trauma)
    "vi una volcadura en la carretera cuando venía": "major_trauma",
    "no me caí, trabajo en un andamio a tres metros": "major_trauma",
    "me caí en la calle, como a tres metros de mi casa": "major_trauma",
    "se me cayó el celular, se oyó un crack": "major_trauma",
    "me estiré y sentí un crujido en la espalda": "major_trauma",
    "el perro me cayó encima jugando": "major_trauma",
    "mi nieta me brincó encima jugando": "major_trauma",
    "me truena la espalda y se oye un crack cuando me estiro": "major_trauma",
    "mi hijo se cayó del trampolín y no le pasó nada": "major_trauma",
    # holdout22: "cada vez que", menos, quejarse de otra cosa, el ruido que empeora (worsening_pain)
    "cada vez que me agacho me duele": "worsening_pain",
    "cada vez me duele menos": "worsening_pain",
    "mi esposa se queja más cada día de mis ronquidos": "worsening_pain",
    "el ruido de la obra pasó de molesto a insoportable": "worsening_pain",
    "cada día me quejo más del tráfico": "worsening_pain",
    # holdout22: deslizarse a los 30, o un vaso que se desliza (minor_fall_fragile)
    "me deslicé del sillón al piso jugando con mi hijo, tengo 30": "minor_fall_fragile",
    "a mi papá de 90 se le deslizó el vaso del sillón al piso": "minor_fall_fragile",
    # holdout22: moverse alivia sin más, dormido viendo la tele, el corazón que late al acostarse (rest_night_pain)
    "moverme me alivia": "rest_night_pain",
    "caminar un rato me ayuda y de noche duermo bien": "rest_night_pain",
    "termino dormido sentado viendo la tele": "rest_night_pain",
    "cuando me acuesto me late el corazón rápido por el café": "rest_night_pain",
    "no es que me duela más en la cama, me duele igual todo el día": "rest_night_pain",
    # holdout22: found while narrowing: water or a lamp from the ceiling, a TV that falls with a crack, a crack and a
    # knock heard in the kitchen (major_trauma); the inner thighs sore, "no siento que sea grave" (saddle_numbness); not
    # riding a bike any more, walking alone not for months (legs)
    "se metió agua del techo y me resbalé en el piso mojado": "major_trauma",
    "me resbalé con el agua que caía del techo": "major_trauma",
    "se cayó la lámpara del techo y me asusté": "major_trauma",
    "se cayó una teja del techo, me duele la espalda de barrer": "major_trauma",
    "se cayó la tele y se oyó un crack": "major_trauma",
    "oí un crack y un golpe en la cocina, me duele la espalda": "major_trauma",
    "se cayó el tubo de la cortina sobre la cama": "major_trauma",
    "se cayó la repisa contra el tubo de la regadera": "major_trauma",
    "la parte interna de los muslos me duele, no siento que sea nada grave": "saddle_numbness",
    "mi hijo ya no anda en bici": "legs",
    "mi abuela ya no camina sola desde hace meses": "legs",
    # holdout22: look-alikes found while probing: wet from rain, a pool or sweat (bladder_bowel); no pain or discomfort
    # there is not numbness (saddle_numbness); tiptoe to reach or see something, feet asleep or numb from the cold said
    # (legs); metres from a place, a distance and not a height (major_trauma)
    "se me mojó el pantalón con la lluvia": "bladder_bowel",
    "me mojé toda con el aguacero y me duele la espalda": "bladder_bowel",
    "se me mojaron los calzones en la alberca": "bladder_bowel",
    "mojé la cama por el sudor de la fiebre": "bladder_bowel",
    "ya no siento nada de dolor en mis partes": "saddle_numbness",
    "ya no siento dolor en las nalgas": "saddle_numbness",
    "no siento ninguna molestia en la entrepierna": "saddle_numbness",
    "no puedo pararme de puntitas para alcanzar la repisa": "legs",
    "no me puedo parar de puntitas para ver por la ventana": "legs",
    "ya no puedo pararme en las puntas para agarrar el frasco de arriba": "legs",
    "los dos pies dormidos del frío de la nieve": "legs",
    "tengo los pies entumidos de frío, estuve afuera en la nieve": "legs",
    "tengo las piernas dormidas por el frío del hielo": "legs",
    "me caí en la calle como a tres metros de mi casa": "major_trauma",
    "me caí como a dos metros de la puerta del súper": "major_trauma",
    "se cayó en el estacionamiento a unos cinco metros de donde estaba yo": "major_trauma",
    # holdout23: look-alikes found while probing: the droppings of an animal, the trousers wet from the rain or the
    # shower (bladder_bowel); a leg asleep from sitting, a joke (saddle_numbness); heavy legs from exercise (legs);
    # boiling with anger or in the heat, water or soup that boils, food that will not heat, cold weather (fever); a
    # crowd, the traffic, a clash with a boss, airbags that did not open (major_trauma); prices, a child growing, shoes
    # that pinch (worsening_pain); a young adult's missed step (minor_fall_fragile); the night's noise or city
    # (rest_night_pain)
    "ya no aguanto la caca del gato en el patio": "bladder_bowel",
    "mi esposa no aguanta la caca de los pájaros en el carro": "bladder_bowel",
    "tenía el pantalón mojado por la lluvia y ni cuenta me di": "bladder_bowel",
    "el pantalón mojado con el agua de la regadera y no me enteré": "bladder_bowel",
    "la pierna como si no fuera mía de estar sentado": "saddle_numbness",
    "ese trasero ni que fuera mío jaja": "saddle_numbness",
    "tengo las piernas pesadas como plomo de tanto correr el maratón, apenas puedo subir escaleras": "legs",
    "después del gimnasio tengo las piernas pesadas y no puedo subir escaleras": "legs",
    "las piernas pesadas del gym, no puedo subir las escaleras jaja": "legs",
    "el agua está hirviendo para el té": "fever",
    "estoy hirviendo de coraje con mi jefe": "fever",
    "ando hirviendo con este calorón": "fever",
    "mi hijo está hirviendo de coraje porque perdió su equipo": "fever",
    "la sopa está que hierve": "fever",
    "no puedo calentar la comida porque no hay gas": "fever",
    "no logro entrar en calor porque hace mucho frío afuera": "fever",
    "en esta casa hace frío y calor": "fever",
    "yo creo que arde cuando orino, nada más": "fever",
    "quedé aplastada entre la gente del metro": "major_trauma",
    "el trabajo me aplasta": "major_trauma",
    "quedé atrapado en el tráfico dos horas": "major_trauma",
    "chocamos de frente con mi jefe por el proyecto": "major_trauma",
    "las bolsas de aire no se abrieron pero el carro quedó bien": "major_trauma",
    "el carro tiene seis bolsas de aire": "major_trauma",
    "el caballo me tiró un lenguetazo": "major_trauma",
    "el zapato me aprieta más cada día": "worsening_pain",
    "la presión le sube y le sube": "worsening_pain",
    "la renta va en aumento": "worsening_pain",
    "los precios siguen aumentando": "worsening_pain",
    "mi hija crece y crece": "worsening_pain",
    "la gasolina sube y sube": "worsening_pain",
    "no está cada vez peor, está igual": "worsening_pain",
    "no me duele y cada vez más me muevo": "worsening_pain",
    "mi hijo de 20 se saltó el último escalón": "minor_fall_fragile",
    "de noche es otra cosa con el ruido de los vecinos": "rest_night_pain",
    "en la noche la ciudad es otra cosa": "rest_night_pain",
    # holdout23 round: el estreñimiento dicho como tal (bladder_bowel)
    'un poco estreñido por la codeína, pero ya fui al baño': 'bladder_bowel',
    'ando estítico desde que tomo las pastillas': 'bladder_bowel',
    # holdout25: mojarse con la lluvia o los pies, no poder dormir, la gota de otra cosa, el dinero sin control
    # (bladder_bowel); la sensibilidad de los dedos (saddle_numbness)
    "ando mojándome con la lluvia": "bladder_bowel",
    "ando mojándome los pies en el río": "bladder_bowel",
    "lo que no puedo es dormir": "bladder_bowel",
    "no echo ni gota de alcohol": "bladder_bowel",
    "sin echar ni gota de sal": "bladder_bowel",
    "la llave no sale ni gota": "bladder_bowel",
    "se me va el dinero sin control": "bladder_bowel",
    "se le sale el agua a la lavadora sin control": "bladder_bowel",
    "perdí la sensibilidad en los dedos de la mano": "saddle_numbness",
    # holdout25: las piernas pesadas del gimnasio, "weak" de otra cosa, no aguantar parado por la espalda (legs)
    "tengo las piernas pesadas del gimnasio y no aguanto parado": "legs",
    "el internet está bien weak": "legs",
    "no aguanto parado mucho rato por el dolor de espalda": "legs",
    # holdout25: la caída del dólar; no contar una caída en la cocina (major_trauma)
    "la caída del dólar me tiene preocupado": "major_trauma",
    "no les dije que me caí en la cocina": "major_trauma",
    # holdout25: en vez de mejorar, igual; la presión o el azúcar que sube; peor por la dieta (worsening_pain)
    "en vez de mejorar se quedó igual": "worsening_pain",
    "la presión sigue subiendo aunque tomo la pastilla": "worsening_pain",
    "el azúcar sigue subiendo aunque esté a dieta": "worsening_pain",
    "estoy peor que cuando empecé la dieta": "worsening_pain",
    # holdout25: el piso de arriba; un traspié en el trabajo (minor_fall_fragile)
    "me fui al piso de arriba a descansar, tomo prednisona": "minor_fall_fragile",
    "tomo prednisona y tuve un traspié en el trabajo con mi jefe": "minor_fall_fragile",
    # holdout25: la tos o la presión al acostarse, la cabeza, el ruido o el bebé (rest_night_pain)
    "en cuanto me acuesto se me alborota la tos": "rest_night_pain",
    "cuando me acuesto se me sube la presión": "rest_night_pain",
    "acostada en la cama la cabeza me duele mucho": "rest_night_pain",
    "mi hijo se despierta quejándose del ruido": "rest_night_pain",
    "se despierta llorando por el bebé": "rest_night_pain",
    # holdout25: lo que se prende, se activa o se sube al acostarse (la tele, la alarma, el gato); el humor que empeora;
    # el dolor de oído de un niño (rest_night_pain, worsening_pain)
    "en cuanto me acuesto se me prende la tele": "rest_night_pain",
    "al acostarme se me activa la alarma del celular": "rest_night_pain",
    "apenas me acuesto se me sube el gato a la cama": "rest_night_pain",
    "cuando me acuesto me sube la fiebre": "rest_night_pain",
    "mi hijo se despierta llorando por el dolor de oído": "rest_night_pain",
    "en vez de mejorar empeora mi humor": "worsening_pain",
    # holdout25: un desmayo en la secundaria, nunca más; una fiebre del mes pasado, ya bien; la pompa dormida en la bici
    # por minutos; iba de mal en peor, ya mejorando con la terapia
    "me desmayé en la primaria al ver sangre, nunca más": "faint_shock_abdomen",
    "tuve calentura hace dos meses por una gripa, ya estoy bien": "fever",
    "después de la bici se me duerme la pompa pero se me quita en cinco minutos": "saddle_numbness",
    "iba de mal en peor pero desde que voy al fisio ya va mejorando": "worsening_pain",
}
