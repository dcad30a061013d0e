# Listes communes aux lexiques français (voir README.md).

# @self : l'auteur, ou un proche, est le sujet ; l'indice de « | self ».
@self = je
@self = j
@self = moi
@self = me
@self = m
@self = mon/ma/mes
@self = nous/notre/nos
@self = il/elle/ils/elles
@self = son/sa/ses/leur/leurs/lui
@self = suis/sommes
@self = en tant que
@self = étant
@self = @proche

# @proche : les proches de l'auteur.
@proche = femme/mari/époux/épouse/conjoint/conjointe/compagnon/compagne
@proche = copain/copine/fiancé/fiancée
@proche = fils/fille/enfant/enfants/bébé
@proche = mère/maman/père/papa/parents
@proche = frère/sœur/mamie/papi/tante/oncle/cousin/cousine
@proche = grand-mère
@proche = grand-père
@proche = famille

# @jesuis : l'auteur (ou un proche) dit ce qu'il est.
@jesuis = je suis
@jesuis = j =suis
@jesuis = je me considère
@jesuis = je me définis comme
@jesuis = nous sommes
@jesuis = on est
@jesuis = en tant que
@jesuis = étant
@jesuis = mon/ma/mes/notre/nos @proche (est/sont/était/étaient)
@jesuis = il/elle est
@jesuis = ils/elles sont
@jesuis = je suis né/née

# L'auteur dit être un homme ou une femme.
@writer_man = je suis un homme/mec/gars
@writer_man = en tant qu'homme
@writer_man = moi aussi je suis un homme
@writer_man = nous sommes deux hommes
@writer_man = on est deux hommes/mecs/gars
@writer_man = deux hommes
@writer_man = je suis son mari/compagnon/copain
@writer_woman = je suis une femme/fille
@writer_woman = en tant que femme
@writer_woman = moi aussi je suis une femme
@writer_woman = nous sommes deux femmes
@writer_woman = on est deux femmes/filles
@writer_woman = deux femmes
@writer_woman = je suis sa femme/compagne/copine

# @personne : une ou des personnes (« une femme noire », « un couple d'hommes »).
@personne = homme/hommes/femme/femmes/personne/personnes/gens/mec/mecs/fille/filles
@personne = garçon/garçons/client/cliente/clients/clientes/famille/familles/communauté
@personne = enfant/enfants/mère/père/parent/parents/couple/couples/ami/amie/amis/amies
@personne = voisin/voisine/collègue/collègues/étudiant/étudiante
