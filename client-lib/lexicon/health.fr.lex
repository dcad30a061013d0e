# Santé (RGPD art. 9) : maladies, diagnostics et leurs sigles, médicaments
# et traitements, grossesse, handicap, soins, absence pour maladie. Français.

term diabète/diabétique/diabétiques
term diabète de type 1/2
term diagnostiqué/diagnostiquée
term on m'a diagnostiqué
term diagnostic | self
term prédiabète
term cancer/cancers
term leucémie/lymphome/mélanome/myélome/sarcome/carcinome
term tumeur/tumeurs
term chimio/chimiothérapie/radiothérapie/immunothérapie
term oncologie/oncologue/cancérologue
term asthme/asthmatique
term épilepsie/épileptique
term crise/crises d'épilepsie
term migraine/migraines/migraineux/migraineuse
term arthrose/arthrite/polyarthrite/lupus/fibromyalgie | self
term douleurs chroniques
term maladie chronique
term fatigue chronique
term =SEP
term =BRCA/=BRCA1/=BRCA2
term sclérose en plaques
term parkinson/alzheimer/démence/huntington
term =AVC
term accident vasculaire cérébral
term crise cardiaque
term infarctus | self
term insuffisance cardiaque/rénale/respiratoire
term problème/problèmes cardiaques
term problème/problèmes de cœur
term pontage/stent/pacemaker
term stimulateur cardiaque
term hypertension
term tension | near=@tension_cue
term =BPCO/emphysème/bronchite/pneumonie/tuberculose
term infection pulmonaire/urinaire
term covid/coronavirus | self
term covid long
term grippe | self
term zona/varicelle/rougeole/oreillons/gastro/mononucléose/septicémie | self
term gastro-entérite
term intoxication alimentaire
term hépatite/cirrhose
term maladie de crohn
term crohn/colite/rectocolite
term maladie cœliaque
term cœliaque
term endométriose/=SOPK/ménopause
term fausse couche
term fausses couches
term enceinte | near=@enceinte_cue
term grossesse/grossesses
term accouché/accouchée/accouchement/césarienne
term congé maternité
term =FIV
term infertilité/stérilité | self
term autisme/autiste/autistes
term =TSA/=TDAH/=TDA | self
term trouble/troubles du spectre autistique
term hyperactif/hyperactive/hyperactivité | self
term dyslexie/dyslexique/dyspraxie/dyspraxique/dyscalculie
term trisomie/trisomique
term infirmité motrice cérébrale
term myopathie/mucoviscidose/drépanocytose/thalassémie/hémophilie
term =VIH/sida
term séropositif/séropositive
term =IST/=MST | self
term dépression/dépressif/dépressive
term déprime | self
term anxiété | self
term trouble/troubles anxieux
term crise/crises d'angoisse
term crise/crises de panique
term attaque/attaques de panique
term bipolaire/bipolarité/schizophrène/schizophrénie
term =TOC/=TSPT | self
term stress post-traumatique
term trouble/troubles alimentaires/du comportement alimentaire
term anorexie/anorexique/boulimie/boulimique
term suicidaire
term tentative de suicide
term santé mentale
term burn-out
term burnout
term dépression nerveuse
term insomnie/insomnies | self
term addiction/alcoolique/alcoolisme/toxicomanie
term cure de désintoxication
term handicap/handicapé/handicapée/handicapés | self
term en situation de handicap
term invalidité
term =MDPH
term =RQTH
term aveugle/malvoyant/malvoyante | self
term sourd/sourde/malentendant/malentendante | self
term fauteuil roulant
term paralysé/paralysée/paraplégique/tétraplégique/amputé/amputée
term mal de dos | self
term hernie/hernies discale/discales
term hernie | self
term sciatique/lumbago | self
term tendinite | self
term entorse | self
term je me suis cassé/cassée/fracturé/fracturée le/la/un/une/les/mon/ma jambe/bras/poignet/cheville/hanche/pied/main/dos/clavicule/côtes/genou
term cassé/cassée/fracturé/fracturée la/le/les jambe/bras/poignet/cheville/hanche/pied/main/clavicule | self
term jambe/bras/poignet/cheville/hanche cassé/cassée/fracturé/fracturée
term fracture/fractures | self
term plâtre | self
term béquilles | self
term commotion cérébrale
term allergie/allergies/allergique/allergiques | self
term intolérant/intolérante au gluten/lactose
term intolérance au gluten/lactose
term choc anaphylactique
term eczéma/psoriasis
term thyroïde/hypothyroïdie/hyperthyroïdie
term glaucome/cataracte/=DMLA/acouphènes/vertiges | self
term malade/malades | self conf=65
term maladie/maladies
term souffrant/souffrante | self
term arrêt maladie
term arrêt de travail
term en arrêt | near=@arret_cue
term en arrêt pour
term mon/ma/son/sa état de santé
term problème/problèmes de santé
term hôpital/hôpitaux/hospitalisé/hospitalisée/hospitalisation/clinique | self
term aux urgences
term aux/en soins intensifs
term en réanimation
term en oncologie/cardiologie/psychiatrie/maternité
term médecin/docteur/généraliste | self conf=60
term cardiologue/neurologue/oncologue/psychiatre/psychiatrique/rhumatologue/pneumologue/diabétologue
term psychologue/psy/thérapeute | self
term thérapie | self
term kiné/kinésithérapeute/kinésithérapie/rééducation | self
term mon/son =opération
term eu/subi/subir/avoir/prévu une =opération
term depuis/après/avant mon/son/l/une =opération
term opéré/opérée
term me faire opérer
term se faire opérer
term fait opérer
term chirurgie/chirurgien
term greffe/biopsie/amputation/mastectomie/hystérectomie/vasectomie/coloscopie/endoscopie/fibroscopie
term prothèse de hanche/genou
term dialyse/dialysé/dialysée
term stomie
term appareil/appareils auditif/auditifs
term implant cochléaire
term prothèse | self
term insuline
term pompe à insuline
term capteur de glycémie
term glycémie | self
term prise de sang
term analyses/analyse de sang
term bilan sanguin
term médicament/médicaments/traitement | self conf=65
term traitement médical/médicamenteux/hormonal/lourd/anticancéreux
term sous traitement
term ordonnance/ordonnances | self
term je prends/prend ... cachets/comprimés/pilules/gélules
term sous cachets/comprimés
term sous antidépresseurs/anxiolytiques/antibiotiques/chimio/morphine/cortisone
term certificat médical
term congé maladie
term sous assistance respiratoire
term @medicament

@medicament = metformine/ozempic/wegovy/mounjaro/saxenda/victoza/trulicity/jardiance/gliclazide
@medicament = prozac/sertraline/citalopram/escitalopram/fluoxétine/paroxétine/deroxat/seroplex/zoloft/venlafaxine/effexor/mirtazapine
@medicament = antidépresseur/antidépresseurs/anxiolytique/anxiolytiques/neuroleptique/neuroleptiques/antipsychotique/antipsychotiques
@medicament = xanax/valium/lexomil/témesta/lysanxia/diazépam/lorazépam/alprazolam/bromazépam/stilnox/zolpidem
@medicament = ritaline/concerta/méthylphénidate/medikinet
@medicament = levothyrox/lévothyroxine/préviscan/kardégic/xarelto/eliquis/apixaban/warfarine
@medicament = statines/atorvastatine/tahor/crestor/amlodipine/ramipril/bisoprolol
@medicament = cortisone/cortancyl/prednisolone/solupred/méthotrexate/humira/tamoxifène/herceptin/létrozole
@medicament = antibiotique/antibiotiques/amoxicilline/augmentin/antiviraux/antirétroviraux/truvada
@medicament = morphine/oxycodone/tramadol/codéine/fentanyl/lamaline/izalgi/gabapentine/prégabaline/lyrica
@medicament = épipen/anapen/ventoline/salbutamol/inhalateur/aérosols
@medicament = méthadone/subutex/buprénorphine
@medicament = olanzapine/quétiapine/rispéridone/aripiprazole/abilify/clozapine/xeroquel
@medicament = lamotrigine/lévétiracétam/keppra/dépakine/dépakote/valproate/tégrétol/carbamazépine
@medicament = traitement hormonal
@medicament = =THS

term lithium/téralithe | self

@tension_cue = ma/sa/la
@tension_cue = hypertension/artérielle
@enceinte_cue = je/j/suis/est/étais/était/tombée/être/étant/sommes/elle/femme/ma/sa/fille/copine/compagne
@arret_cue = je/j/suis/mis/mise/est/été/toujours/actuellement

# Usages figurés et non personnels.
not malade de rire
not rend/rendre/rendent malade de
not ça/ca/cela me rend malade
not malade de devoir/voir/attendre/rappeler/penser/savoir/constater/lire/entendre/recevoir/payer/perdre/rater/chercher
not j'en suis malade
not j'en suis tombé/tombée malade
not en suis malade
not malade cette/ce/la/le promo/offre/prix/deal/réduc
not cette/ce/la/le/votre promo/offre/prix/deal/réduc/site (est) (trop/grave/complètement/vraiment) malade
not fait/failli/faillir faire une crise cardiaque
not fait/failli/faillir faire un infarctus
not donné/donne/donner/donnera/donnez une crise cardiaque
not donné/donne/donner un infarctus
not faire un infarctus en voyant
not crise cardiaque en voyant
not je suis aveugle ou
not suis-je aveugle
not test à l'aveugle
not dégustation à l'aveugle
not aveugle/aveugles pour la fenêtre
not onglet/rubrique/menu/page/section/espace (des/de/d) ordonnances/ordonnance
not lunettes/verres de vue
not lunettes/verres/lentilles sur/avec ordonnance
not je/j suis/étais médecin/infirmier/infirmière/soignant/soignante/kiné/pharmacien/pharmacienne/chirurgien/vétérinaire/dentiste/ambulancier/ambulancière
not en tant que médecin/infirmier/infirmière/soignant/soignante/pharmacien/pharmacienne
not @repere (le/la/l/mon/ma/notre/votre) cabinet/médecin/hôpital/clinique/pharmacie/urgences
not maladie/maladies de la/des plante/plantes/feuille/feuilles/rose/rosiers
not cancer/diabète/alzheimer/parkinson association/recherche/ligue/fondation/téléthon
not ligue contre le cancer
not recherche contre/sur le cancer
not au profit de la recherche
not tension de la/du/des chaîne/courroie/ressort/câble/batterie
not sous tension
not basse/haute tension
not tension électrique
not arrêt de bus/tram/métro
not en arrêt de production/commercialisation/vente
not opération commerciale/promotionnelle/spéciale/bancaire/promo/prélèvement/virement/maintenance
not opération de maintenance/paiement/virement/prélèvement
not opération en cours
not opération sur mon/le/votre compte
not traitement de ma/la/votre commande/demande/réclamation/dossier/remboursement/paiement
not traitement de texte/données/surface
not traitement de l'eau
not en cours de traitement
not délai/délais de traitement
not traitement anti
not allergique ... paperasse/administration/attente/lundis/bureaucratie
not enceinte bluetooth/connectée/portable/audio/jbl/sonos/marshall
not enceinte sans fil
not sous traitement de texte

@repere = à côté de
@repere = en face de
@repere = près de
@repere = derrière/devant/chez
@repere = déposez/laissez/livrez/déposer/laisser/livrer le colis à/au/chez/devant
@repere = déposez/laissez/livrez/déposer/laisser/livrer à/au/chez/devant

# Animaux, plantes et œuvres : la santé d'un autre qu'une personne.
unless chien/chiens/chienne/chiot/chiots/chaton/chatons/animal/animaux/cheval/chevaux/lapin/hamster/perroquet/perruche
unless mon/ma/mes/notre/nos/son/sa/ses chat/chats/chatte/chattes
unless cochon d'inde
unless vétérinaire/véto/vétérinaires
unless plante/plantes/arbre/arbres/pelouse/haie/rosier/rosiers/feuilles/orchidée/orchidées/tomates

# Autres maladies, soins et aides.
term j'attends un bébé/enfant
term nous attendons un bébé/enfant
term on attend un bébé/enfant
term date prévue d'accouchement
term terme prévu | self
term anémie/anémique/incontinence/psychose/neuropathie/scoliose/spondylarthrite/ostéoporose
term maladie auto-immune
term immunodéprimé/immunodéprimée
term apnée du sommeil
term perte d'audition/auditive
term perte de la vue
term cholestérol | self
term chirurgie bariatrique
term anneau gastrique
term =sleeve | self
term soins palliatifs
term maison de retraite/repos | self
term =EHPAD | self
term aidant/aidante | self
term auxiliaire de vie
term infirmière/infirmier à domicile
term rhume des foins
term longue maladie
term affection de longue durée
term =ALD
term mal au dos/ventre/genou/genoux | self
term je me remets d'une/de ma/d'un/de mon opération/chute/maladie/infection/fracture/accident
