# Origine raciale ou ethnique (RGPD art. 9) : se dire d'un peuple, d'un
# groupe ethnique ou d'une ascendance, couleur de peau d'une personne,
# métissage, pourcentages d'ascendance, origine comme motif d'un traitement.

# Peuples, groupes et origines (sans les nationalités des marchés
# principaux de la marque : « je suis français » dit rarement une origine).
@peuple = africain/africaine/africains/africaines/antillais/antillaise/antillaises/guadeloupéen/guadeloupéenne/martiniquais/martiniquaise/guyanais/guyanaise/réunionnais/réunionnaise/mahorais/mahoraise/comorien/comorienne/malgache/malgaches/haïtien/haïtienne
@peuple = sénégalais/sénégalaise/malien/malienne/ivoirien/ivoirienne/congolais/congolaise/camerounais/camerounaise/guinéen/guinéenne/burkinabé/béninois/béninoise/togolais/togolaise/nigérian/nigériane/somalien/somalienne/éthiopien/éthiopienne/érythréen/érythréenne/soudanais/soudanaise
@peuple = peul/peule/peuls/peules/wolof/bambara/soninké/touareg/touaregs/bamiléké/yoruba/zoulou
@peuple = maghrébin/maghrébine/maghrébins/maghrébines/arabe/arabes/berbère/berbères/amazigh/kabyle/kabyles/chaoui/rifain/rifaine/algérien/algérienne/marocain/marocaine/tunisien/tunisienne/égyptien/égyptienne/libanais/libanaise/syrien/syrienne/palestinien/palestinienne/irakien/irakienne
@peuple = turc/turque/turcs/kurde/kurdes/arménien/arménienne/arméniens/iranien/iranienne/perse/afghan/afghane/tchétchène/ouïghour/tibétain/tibétaine
@peuple = asiatique/asiatiques/chinois/chinoise/vietnamien/vietnamienne/cambodgien/cambodgienne/laotien/laotienne/coréen/coréenne/japonais/japonaise/philippin/philippine/thaïlandais/thaïlandaise/indien/indienne/pakistanais/pakistanaise/bangladais/bangladaise/tamoul/tamoule/tamouls/sri-lankais/srilankais/hmong
@peuple = latino/latina/latinos/hispanique/hispaniques/mexicain/mexicaine/colombien/colombienne/péruvien/péruvienne/brésilien/brésilienne/cubain/cubaine
@peuple = rom/roms/romani/tsigane/tsiganes/tzigane/tziganes/gitan/gitane/gitans/gitanes/manouche/manouches/yéniche/voyageur/voyageurs
@peuple = noir/noire/noirs/noires/métis/métisse/métisses/maori/maorie/inuit/inuite/inuits/autochtone/autochtones/amérindien/amérindienne/aborigène/kanak/kanake/polynésien/polynésienne
@peuple = nord-africain/nord-africaine/nord-africains/ouest-africain/ouest-africaine/sud-asiatique/afro-antillais/afro-antillaise/afro-américain/afro-américaine/afro-descendant/afro-descendante/afrodescendant/afrodescendante
@peuple = d'afrique du nord
@peuple = d'afrique subsaharienne/noire

@origine_mot = origine/origines/ascendance/descendance/ethnie/communauté

term d'origine/d'origines @peuple | near=@jesuis_pres
term d'origine/d'origines étrangère/immigrée/maghrébine/africaine/asiatique/antillaise
term de descendance/ascendance @peuple
term issu/issue/issus/issues de l'immigration (@peuple)
term issu/issue/issus/issues d'une famille @peuple
term enfant/enfants/fils/fille d'immigré/d'immigrés/d'immigrée/d'immigrées
term de type @peuple
term de type maghrébin/africain/asiatique/européen/méditerranéen
term @jesuis (un/une) (@keen_fr) (à-moitié/demi/moitié/métis/métisse) @peuple
term @jesuis à moitié @peuple
term @peuple par mon/ma père/mère/grand-père/grand-mère
term @jesuis (un/une) @personne @peuple
term @personne @peuple
term # (%/pour-cent/pourcent) @peuple
term à # (%/pour-cent) @peuple
term métis/métisse/métisses/métissé/métissée/biracial/biraciale/multiracial | conf=85
term mes/ses/nos/leurs origines | near=@origine_cue
term mes origines
term origine/origines ethnique/ethniques/raciale
term minorité/minorités ethnique/ethniques/visible/visibles
term appartenance ethnique
term ethnie/ethnique | self
term couleur de peau
term couleur de ma/sa/leur peau
term la peau foncée/noire/mate/brune/sombre
term peau foncée/noire/mate/brune/sombre | self
term à/a la peau foncée/noire/mate
term noir/noire de peau
term délit de faciès
term contrôle/contrôles au faciès
term profilage racial/ethnique
term à cause de mes/ma/mon/ses/sa origines/origine/couleur/faciès/peau/nom/accent
term à cause de ma couleur/origine
term racisé/racisée/racisés/racisées
term rom/roms/tsigane/gitan/gitane/manouche/yéniche | self
term maghrébin/maghrébine/maghrébins/maghrébines | conf=80
term beur/beurette/rebeu/rebeue/renoi/renoie/reunoi | self
term afro-descendant/afro-descendante
term afrodescendant/afrodescendante
term kabyle/kabyles/berbère/berbères/peul/peule/peuls/antillais/antillaise/tamoul/tamoule | near=@jesuis_pres
term test/tests adn ... # (%/pour-cent)

@keen_fr = fier/fière/vrai/vraie
@origine_cue = mes/ses/nos/leurs/à cause/pour/de/sur
@jesuis_pres = @jesuis
@jesuis_pres = je/j/nous/on
@jesuis_pres = mon/ma/mes/notre/nos famille/parents/père/mère/grands-parents/ancêtres

# Produits, cuisine, lieux, langues et couleurs d'objets.
not @peuple @objet
not nouvel an chinois
not restaurant/resto/épicerie/boutique/cuisine/plat/plats/traiteur/supermarché/marché/tissu/tissus/motif/motifs/imprimé/imprimés/collection/musique/film/films/danse/style/thé/café/riz/tapis/coussin/coussins/robe/robes/bijoux @peuple
not en/parle/parler/parlez/apprends/apprendre/traduire/traduit/traduction/sous-titres/sous-titré/doublé/lire/écrire/clavier @peuple
not @peuple langue/version/traduction/clavier/caractères/alphabet/sous-titres
not noir/noire/noirs/noires de monde
not noir/noire/noirs/noires sur blanc
not noir et blanc
not noire/noir/noirs/noires mat/mate/brillant/brillante/laqué/laquée
not robe/veste/pantalon/chaussures/chaussure/sac/coque/cadre/manteau/jean/pull/t-shirt/tee-shirt/écran/fond/couleur/modèle/version/encre/café/liste/marché/chocolat/boîte/voiture/vélo/bracelet/montre/stylo noire/noir/noirs/noires
not tableau/humour/film/série/roman/point/trou/nuit/mouton/chat/chien/poivre/radis/cuir/bois noir/noire/noirs/noires
not rom ... fichier/jeu/jeux/émulateur/console/android/téléchargement
not voyageur/voyageurs sncf/train/avion/billet/billets/carte/assurance/fréquent/pressé/du/de/en
not les voyageurs
not tarif/carte/billet/espace/avis voyageur/voyageurs
not des voyageurs
not peau mate/foncée/noire/sombre fond-de-teint/teinte/teintes/crème/nuance/nuances
not pour/aux/les peau/peaux mate/mates/foncée/foncées/noire/noires/sombre/sombres
not fond de teint pour peau
not point noir/noirs
not gitane/gitanes cigarette/cigarettes/paquet
not juif/juive ... quartier/restaurant/boulangerie/épicerie/cimetière/musée/école

@objet = restaurant/resto/cuisine/plat/plats/épicerie/boutique/traiteur/supermarché/marché/tissu/tissus/motif/motifs/imprimé/imprimés/collection/musique/film/films/danse/style/thé/café/riz/tapis/coussin/coussins/robe/robes/bijoux/épices/recette/recettes/sauce/nouilles/art/artisanat/décoration/déco
@objet = meuble/meubles/lampe/vase/panier/paniers/calendrier/zodiaque/alphabet/caractères/clavier/édition/version/gamme/marque/import/importé/importée/fabriqué/fabriquée/produit/produits
