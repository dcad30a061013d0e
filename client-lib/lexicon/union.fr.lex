# Appartenance syndicale (RGPD art. 9) : adhésion, cotisation, mandats de
# représentant, en mots généraux ou syndicats nommés. Une grève annoncée
# par un syndicat, sans adhésion dite, n'est pas une appartenance. Français.

@syndicat_nu = =CGT/=CFDT/=CFTC/=UNSA/=FSU/=SNES/=SNUIPP/=SNALC/=CNT/=FNSEA/=UNEF/=SGEN/=SNCS/=SNESUP/=FAGE/=CGC
@syndicat_nu = cfe-cgc
@syndicat_nu = force ouvrière
@syndicat_nu = sud rail/ptt/santé/éducation/solidaires/poste/travail/commerce/chimie/industrie/étudiant/culture/aérien
@syndicat_nu = cgt cheminots/métallurgie/santé/énergie/fonction/commerce/éduc/spectacle
@syndicat_nu = snes-fsu
@syndicat_nu = confédération paysanne
@syndicat_nu = union syndicale solidaires
@syndicat = @syndicat_nu
@syndicat = =FO/=SUD/solidaires

@role_syndical = délégué/déléguée/délégués/élu/élue/élus/représentant/représentante/militant/militante/militants/adhérent/adhérente/adhérents/membre/membres/secrétaire/responsable/syndiqué/syndiquée/encarté/encartée/permanent/permanente/mandaté/mandatée/sympathisant/sympathisante

term syndiqué/syndiquée/syndiqués/syndiquées/syndiquer/syndiquez
term me syndiquer
term syndicat/syndicats | self
term syndical/syndicale/syndicaux/syndicales
term délégué/déléguée/délégués/représentant/représentante/élu/élue/militant/militante/responsable/secrétaire/section/cotisation/carte/mandat/adhésion/permanence syndical/syndicale
term mon/notre/son syndicat
term au syndicat | self
term @role_syndical (au/à/chez/de/du/pour/aux) (la/le/l) @syndicat
term @role_syndical @syndicat
term suis/sommes/es/est (toujours) à/au (la/l) @syndicat
term ma/sa carte à/de/au/du (la/l) @syndicat
term ma/sa carte @syndicat
term cotisation/cotisations à/au/de/du (la/l) @syndicat
term cotisation/cotisations @syndicat
term @syndicat_nu | self
term délégué/déléguée/délégués du personnel
term représentant/représentante/élu/élue/élus du personnel
term élu/élue/élus au/du @cse
term délégué/déléguée/délégués @syndicat
term secrétaire/trésorier/trésorière de la section
term section syndicale
term facture/factures/facturer/facturez ... (la/le/l) @syndicat
term le/mon/notre syndicat rembourse/paie/paye/finance/prend

@cse = =CSE/=CE/=CHSCT

# Mots de tous les jours et grèves dans l'actualité.
not syndicat de copropriété/copropriétaires/initiative/eaux/intercommunal/mixte/agricole/viticole
not syndicat d'initiative
not syndicat des copropriétaires/eaux
not syndic/syndics
not à l'appel de/du (la/l) @syndicat
not grève/grèves/manif/manifestation/mobilisation/préavis/appel/blocage/mouvement/action/actions (de/du/des) (la/le/l) @syndicat
not @syndicat appelle/appellent/lance/lancent/organise/organisent/dépose/annonce/menace/bloque/bloquent/mobilise
not @syndicat a/ont appelé/lancé/déposé/annoncé/organisé
not @syndicat a/ont appelé à la grève
not grève de la @syndicat
not selon la/le/les @syndicat
not sud ouest/est
not au/du/le sud
not sud de/du/des/d
not solidaires de/du/des/avec/entre
not restons/soyons/sommes/être/rester solidaires
