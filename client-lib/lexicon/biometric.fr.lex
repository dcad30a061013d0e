# Données biométriques et génétiques (RGPD art. 9) : empreintes, visage,
# iris, voix, paume ou démarche d'une personne pour l'identifier, ADN et
# tests génétiques, résultats et statut de porteur. Une fonction d'appareil
# nommée comme un produit (« Face ID ne marche plus ») n'en est pas.

term empreinte/empreintes digitale/digitales/vocale/vocales/palmaire/palmaires/rétinienne/faciale/du-doigt/du-pouce/de-la-main/de-mon-doigt/de-mes-doigts
term mes/ses/leurs empreintes
term mon/son empreinte
term prendre/pris/prise/prend/prennent/relevé/relever/enregistré/enregistrer/enregistre/stocké/stocker/stocke/scanné/scanner/scanne/gardé/garder/garde/conservé/conserver/conserve/utilisé/utiliser/utilise/collecté/collecter mes/ses/leurs/nos empreintes
term prendre/pris/prise/prend/relevé/enregistré/enregistrer/enregistre/stocké/stocker/stocke/scanné/scanner/scanne/gardé/garder/garde/conservé/conserver/conserve/utilisé/utiliser/utilise/filmé/filmer/filme/photographié/photographier/photographie/collecté/collecter mon/son/notre/leur visage/iris/empreinte/doigt/pouce
term enregistré/enregistrer/enregistre/stocké/stocker/stocke/gardé/garder/garde/conservé/conserver/conserve/utilisé/utiliser/utilise/collecté/collecter/analysé/analyser/analyse ma/sa/notre/leur voix/rétine/paume/main/démarche/empreinte
term scan/scans/scanner/numérisation/modèle/gabarit/empreinte/reconnaissance du-visage/de-l'iris/de-la-rétine/de-la-main/de-la-paume/des-veines/de-la-voix/de-la-démarche
term scan/scans/numérisation/modèle/gabarit/photo/vidéo de mon/ma/mes/son/sa/ses visage/iris/rétine/paume/main/doigt/doigts/pouce/veines/empreintes
term reconnaissance faciale/vocale/biométrique/veineuse/digitale/palmaire/rétinienne
term filmer/filme/filmé/photographier/photographie mon/son visage
term selfie vidéo
term vidéo selfie
term biométrie/biométrique/biométriques
term données biométriques/génétiques
term adn | self
term test/tests/kit/kits/analyse/analyses/échantillon/échantillons/résultat/résultats/prélèvement/profil/séquençage adn
term test/tests/analyse/analyses/examen/examens/dépistage/résultat/résultats/profil/séquençage/bilan/conseil/diagnostic/données/marqueur/marqueurs/mutation/mutations/variant/variants/anomalie génétique/génétiques/génomique
term séquençage génétique/génomique/du-génome/de-mon-génome/de-l'adn/de-mon-adn
term mon/son génome
term génome/génomes/génotype/génotypage/caryotype/caryotypes/exome
term échantillon/échantillons/prélèvement de salive
term test/tests de paternité/maternité/filiation/ascendance/parenté
term test/tests d'ascendance/d'origines/d'ancestralité
term porteur/porteuse/porteurs sain/saine/sains
term porteur/porteuse/porteurs d'une/de-la/du/de mutation/gène/variant/anomalie
term =BRCA/=BRCA1/=BRCA2/=HFE/=MTHFR/=APOE
term mutation/mutations du gène/génétique/génétiques
term 23andme/ancestrydna/myheritage

# Appareils et produits ; usages figurés et non personnels.
not face/touch id
not lecteur/lecteurs/capteur/capteurs/scanner/bouton/déverrouillage d'empreinte/d'empreintes/de-l'empreinte/digital/digitale
not lecteur/lecteurs/capteur/capteurs/scanner/bouton/déverrouillage ... empreinte/empreintes
not serrure/cadenas/coffre/porte à empreinte/empreintes
not empreinte/empreintes carbone/écologique/environnementale/carbones
not empreinte/empreintes de pas/pattes/chaussures/pneus
not empreinte/empreintes de doigts sur
not traces de doigts
not dans l adn
not dans notre/son/leur/votre adn
not l'adn de la/du/des/de/d
not adn de la/du/des/de marque/maison/entreprise/société/équipe/produit/collection
not notre/leur/son adn
not reconnaissance vocale de/du/sur le/la/l téléphone/voiture/enceinte/télécommande/assistant/appli/télé/tv
not commande/commandes/assistant/assistante vocale/vocal
not message/messages vocal/vocaux
not crème/sérum/masque/soin/huile/gel/nettoyant/brume visage
not scanner mon/ma/le/la billet/carte/ticket/code/qr/passeport/reçu/document
not scan de mon/ma billet/carte/ticket/code/qr/passeport/reçu/document
not passeport/passeports biométrique/biométriques
not titre de séjour biométrique
not photo/photos d'identité biométrique/biométriques
