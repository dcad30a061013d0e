# Convictions religieuses ou philosophiques (RGPD art. 9) : confessions,
# pratique, tenue et alimentation religieuses, lieux et rites quand ce sont
# ceux de l'auteur. Français.

term musulman/musulmane/musulmans/musulmanes/islam/islamique
term chrétien/chrétienne/chrétiens/chrétiennes
term catholique/catholiques/protestant/protestante/protestants/évangélique/évangéliques/anglican/baptiste/baptistes/pentecôtiste/adventiste/adventistes/quaker/mormon/mormone/mormons
term témoin/témoins de jéhovah
term juif/juive/juifs/juives/judaïsme/judaïque
term orthodoxe/orthodoxes | self
term hindou/hindoue/hindous/hindouisme/sikh/sikhs/bouddhiste/bouddhistes/bouddhisme/jaïn/jaïnisme/rastafari
term païen/païenne/wicca | self
term athée/athées/athéisme/agnostique/agnostiques/laïque | self
term pratiquant/pratiquante/pratiquants/pratiquantes | self
term croyant/croyante/croyants/croyantes | self
term non croyant/croyante
term converti/convertie/convertis/converties à l'islam
term converti/convertie/convertis/converties au judaïsme/catholicisme/christianisme/bouddhisme/protestantisme/islam
term ma/notre foi/religion/paroisse/mosquée/synagogue/église
term ma/notre communauté religieuse
term mes/nos convictions/croyances religieuses
term mon/notre imam/rabbin/curé/prêtre/pasteur/temple
term raisons/motifs/convictions/croyances religieuses
term pour des raisons religieuses
term kippa/kippas/niqab/burqa/burka/hijab/jilbab/abaya/turban/tchador | self
term porte/porter/portons/portent/portes le/la/un/une voile/foulard/kippa/hijab/turban/niqab/croix
term voilée/voilées
term shabbat/sabbat/chabbat | self
term casher/cacher/kasher/halal | self
term ramadan/iftar | self
term l'aïd | self
term aïd el/moubarak/mubarak/kébir/kebir/fitr/adha
term fais/faisons/fait/faire le ramadan/carême
term jeûne/jeûner/jeûnons/jeûnes pendant/durant (le) ramadan/carême/kippour
term jeûne/jeûner/jeûnons/jeûnes du ramadan/carême
term carême | near=@jeune_cue
term pendant/durant le ramadan/carême
term rupture du jeûne
term yom kippour | self
term kippour/pessah/hanoukka/diwali | self
term prière du vendredi
term prière/prières | self
term fais/faisons/faire ma/mes/la/les prière/prières
term prie/prions/prier cinq fois
term vais/allons/va/vont/aller/allé/allée/vas à la messe/mosquée/synagogue
term vais/allons/va/vont/aller/allé/allée/vas à l'église
term vais/allons/va/vont/aller/allé/allée/vas au temple
term à la messe | self
term messe du dimanche
term bar/bat mitsva/mitzvah
term première communion
term ma/sa profession de foi
term baptême/baptisé/baptisée | self
term inchallah | self
term inch'allah | self
term je crois en dieu
term je ne suis pas croyant/croyante/religieux/religieuse/pratiquant/pratiquante
term je suis croyant/croyante/religieux/religieuse

@jeune_cue = je/j/nous/on/pendant/le/fais/faisons/jeûne/jeûnons/pour/mon/ma/mes

# Repères, noms et mots de tous les jours.
not @repere_culte (l/la/le/une/un) (saint/sainte) ... église/mosquée/synagogue/temple/chapelle/cathédrale/basilique
not rue/place/parvis de l église
not rue/place/parvis de la mosquée/synagogue/chapelle/cathédrale
not prière de
not église/mosquée/chapelle/temple/cathédrale saint/sainte/notre
not christian dior/louboutin/lacroix
not boucherie/restaurant/traiteur/rayon/épicerie/produits/magasin/menu/plat/plats halal/casher/cacher/kasher
not cuisine/gastronomie/pâtisserie/boulangerie juive/orientale/musulmane/chrétienne
not quartier juif/chrétien/musulman/catholique
not école/lycée/collège/université catholique/protestante/juive/privée
not mardi gras
not voile/voiles ... rideau/moustiquaire/lampe/parasol/ombrage/bateau/hamac/tulle/lin/coton/soie
not voile de mariée
not planche/bateau/club/cours/stage de voile
not faire/fais/fait de la voile
not croix rouge
not pratiquant/pratiquante le/la/du/de/des sport/yoga/tennis/football/course/vélo/judo/escalade/natation
not pratiquant/pratiquante régulier/régulière de/du
not école/enseignement/état/république/éducation laïque
not temple ... consommation/shopping/mode/luxe/gastronomie
not croyant/croyante en la/le/les/votre marque/produit/service/équipe
not je ne suis pas croyant/croyante en

@repere_culte = à côté de
@repere_culte = en face de
@repere_culte = près de
@repere_culte = derrière/devant
@repere_culte = déposez/laissez/livrez/déposer/laisser/livrer (le/mon) (colis/paquet) à/au/devant
@repere_culte = point relais
