# Opinions politiques (RGPD art. 9) : partis et mouvements, adhésion,
# vote, campagne et militantisme, pétitions et manifestations, façons de
# se dire politiquement, mandats d'élu avec un parti. Français.

@parti_nu = rassemblement/front national
@parti_nu = =RN/=FN/=LFI/=PCF/=EELV/=NPA/=UDI/=UPR/=UDB/=NUPES/=NFP/=MODEM/=LREM/=PRG
@parti_nu = france insoumise
@parti_nu = parti socialiste/communiste/radical/animaliste/breton/pirate
@parti_nu = parti de gauche
@parti_nu = les républicains
@parti_nu = europe écologie
@parti_nu = les écologistes
@parti_nu = les verts
@parti_nu = reconquête
@parti_nu = debout la france
@parti_nu = lutte ouvrière
@parti_nu = nouveau front populaire
@parti_nu = union démocratique bretonne
@parti_nu = place publique
@parti_nu = la république en marche
@parti_nu = en marche
@parti_nu = les patriotes
@parti_nu = action française
@parti_nu = femu a corsica
@parti_nu = gilets jaunes
@parti_nu = gilet jaune
@parti_nu = extinction rebellion
@parti_nu = dernière rénovation
@parti_nu = soulèvements de la terre
@parti = @parti_nu
@parti = =PS/=LR/=LO/=FI
@parti = renaissance/horizons/ensemble/génération/générations/écologistes/verts/insoumis/républicains/reconquête/modem/centristes

term @parti_nu
term milite/milité/militer/militons/militent/militant/militante/militants/militantes/adhérent/adhérente/adhérents/adhère/adhéré/encarté/encartée/sympathisant/sympathisante/électeur/électrice/élu/élue/membre/membres/responsable/candidat/candidate/conseiller/conseillère/militantisme chez/au/à/aux/pour/de/du/des (la/les/l) @parti
term militant/militante/militants/adhérent/adhérente/sympathisant/sympathisante/électeur/électrice/élu/élue/candidat/candidate/encarté/encartée @parti
term conseiller/conseillère/conseillers municipal/municipale/municipaux/régional/régionale/départemental/départementale/général (de/du) @parti
term député/députée/sénateur/sénatrice/maire/adjoint/adjointe @parti
term vote/voté/votons/voter/votes/votent/votais/voterai (pour) (le/la/les/l) @parti
term vote/voté/voter/votes/voterai pour @politicien
term vote/voté/voter/votes/voterai @politicien
term tracté/tracter/tracte/tractons/tractage/tracts pour/avec (le/la/les/l) @parti
term tracté/tracter/tracte/tractons pour @politicien
term fait/faire/fais/faisons campagne pour/avec (le/la/les/l) @parti
term fait/faire/fais/faisons campagne pour @politicien
term collé/coller/colle des affiches pour (le/la/les/l) @parti
term carte du/de/au parti
term membre du parti
term encarté/encartée/encartés
term mon parti
term parti politique
term @iam_fr (un/une) (fervent/fervente/grand/grande/ancien/ancienne/fier/fière) @soi_politique
term @soi_politique_nu
term suis/sommes/est/es/être/étant/toujours/plutôt/très/vote/voté/votons/votais/homme/femme/électeur/électrice de gauche/droite
term extrême gauche/droite
term ultra gauche/droite
term ultragauche/ultradroite
term gauchiste/gauchistes/facho/fachos/réac | self
term opinions/convictions/idées/engagement/orientation/sensibilité politiques/politique
term mes idées/opinions/convictions politiques
term mon engagement politique/militant
term =pétition/=pétitions | near=@petition_cue
term =pétition/=pétitions contre
term signé/signer/signe/signez/signons la/une/cette/votre/notre =pétition
term manifesté/manifester/manifestons/manifestais/manifestent contre/pour | self
term manifeste contre | self
term à la manif/manifestation contre
term manif/manifestation contre la réforme
term contre la réforme des retraites | self
term manif pour tous

@iam_fr = @jesuis
@soi_politique = royaliste/monarchiste/souverainiste/gaulliste/communiste/socialiste/anarchiste/trotskiste/marxiste/écologiste/libéral/libérale/centriste/nationaliste/identitaire/républicain/républicaine/macroniste/mélenchoniste/lepéniste/zemmourien/zemmourienne/insoumis/insoumise/frontiste/antifa/antifasciste/altermondialiste/indépendantiste/autonomiste/régionaliste/conservateur/conservatrice/progressiste/encarté/encartée/décroissant/décroissante
@soi_politique = de gauche/droite
@soi_politique = d'extrême gauche/droite
@soi_politique = électeur/électrice/militant/militante/sympathisant/sympathisante de/du/des (la/les/l) @parti
@soi_politique_nu = royaliste/royalistes/monarchiste/monarchistes/souverainiste/souverainistes/gaulliste/gaullistes/communiste/communistes/anarchiste/anarchistes/trotskiste/trotskistes/marxiste/marxistes/macroniste/macronistes/mélenchoniste/lepéniste/zemmourien/zemmourienne/frontiste/frontistes/antifa/antifasciste/antifascistes/altermondialiste/indépendantiste/indépendantistes

@politicien = macron/mélenchon/bardella/zemmour/ciotti/retailleau/glucksmann/ruffin/roussel/bayrou/attal/hollande/sarkozy/fillon/hidalgo/tondelier/jadot/asselineau/poutou/arthaud/lassalle
@politicien = le pen
@politicien = marine le pen
@politicien = dupont-aignan
@petition_cue = signé/signer/signe/signez/lancé/lancer/une/la/cette/notre/ma/contre

# Mots de tous les jours.
not la/en renaissance
not ensemble de/du/des/avec/à/pour/on
not ensemble/horizons pantalon/jogging/complet/linge/lit
not horizons lointains/nouveaux
not vert/verte/verts/vertes clair/foncé/pomme/sapin/olive/kaki
not les verts de/du
not au vert
not génération suivante/précédente/actuelle/de/du/des
not nouvelle génération
not droite/gauche ou/et gauche/droite
not à droite/gauche
not de droite à gauche
not de gauche à droite
not côté/coté droit/gauche/droite
not sur la droite/gauche
not la droite/gauche de
not en marche arrière/avant
not est en marche
not se mettre en marche
not conservateur/conservateurs alimentaire/alimentaires
not sans conservateur/conservateurs
not libéral/libérale profession/professions
not profession libérale
not candidat/candidate ... poste/recrutement/job/stage/emploi/alternance
