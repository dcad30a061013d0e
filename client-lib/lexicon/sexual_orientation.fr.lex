# Orientation sexuelle (RGPD art. 9) : se dire gay, lesbienne, bi ;
# couples de même sexe décrits avec ou sans ces mots ; partenaires dont le
# genre la dit ; applications de rencontre pour hommes gays. Français.

term lesbienne/lesbiennes/bisexuel/bisexuelle/bisexuels/bisexuelles/bisexualité/homosexuel/homosexuelle/homosexuels/homosexuelles/homosexualité/hétérosexuel/hétérosexuelle/pansexuel/pansexuelle/queer
term asexuel/asexuelle | self
term =LGBT/=LGBTQ/=LGBTQIA/=LGBTI/=LGBTQI
term =LGBTQ+/=LGBT+/=LGBTQIA+
term gay/gays/gai/gais/homo/homos | self
term hétéro/hétéros | self
term couple/couples gay/gays/homo/homos/lesbien/lesbiens/homosexuel/homosexuels/homosexuelle/homosexuelles/de même sexe
term couple/couples de deux hommes/femmes/mecs/filles/pères/mères/papas/mamans
term couple/couples d'hommes
term couple/couples de femmes
term deux hommes/femmes/mecs/filles/papas/mamans/pères/mères/maris/épouses mariés/mariées/pacsés/pacsées/ensemble/en-couple
term deux papas/mamans/pères/mères
term nous sommes/on est deux hommes/femmes/mecs/filles
term mes/nos/ses/leurs deux papas/mamans/pères/mères
term mon mari et moi sommes deux hommes
term ma femme et moi sommes deux femmes
term homoparental/homoparentale/homoparentaux/homoparentales/homoparentalité
term famille/familles homoparentale/homoparentales
term même sexe
term de même sexe
term @jesuis (un/une) (@keen_fr) =bi
term =bi @personne
term =attiré par les hommes/garçons/mecs
term =attirée par les femmes/filles
term je suis attiré/attirée par les hommes/garçons/mecs | if=@writer_man
term je suis attiré/attirée par les femmes/filles | if=@writer_woman
term j'aime les hommes/garçons/mecs | if=@writer_man
term j'aime les femmes/filles | if=@writer_woman
term mon mari/copain/compagnon/fiancé/chéri/petit-ami/conjoint | if=@writer_man
term ma femme/copine/compagne/fiancée/chérie/petite-amie/conjointe/épouse | if=@writer_woman
term coming out/coming-out
not coming out de
term mon coming out/coming-out
term fait mon coming out
term grindr
term grindr/scruff/hornet/planetromeo/romeo xtra/unlimited/pro/premium/abonnement
term abonnement ... grindr/scruff/hornet/planetromeo
term grindr/=scruff/hornet/planetromeo | near=@appli_cue
term mariage gay/homo/homosexuel
term marié/mariée/mariés/mariées à un homme | if=@writer_man
term mariée/marié à une femme | if=@writer_woman

@appli_cue = abonnement/prélèvement/prélèvements/prélevé/facturé/facturation/débit/débité/compte/paiement/remboursement/appli/application/mon/ma/mes
@appli_cue = je/j

# Mots de tous les jours.
not gai/gaie/gais/gaies comme/couleur/couleurs/printemps/luron/ambiance
not gay-lussac
not gay lussac
not homo sapiens/erectus/habilis
not =bi-mensuel/=bimensuel/bimensuelle/bihebdomadaire
not bi mensuel/hebdomadaire/annuel
not deux femmes de ménage
not deux hommes de main
not couple de torsion/serrage
not même sexe que
