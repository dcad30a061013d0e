# Biometric and genetic data (GDPR art. 9): a person's fingerprints, face,
# iris, voice, palm or gait taken to identify them, DNA and genetic tests,
# genetic results and carrier status. A device feature named as a product
# ("Face ID stopped working") is not a person's biometric data. English.

term fingerprint/fingerprints/thumbprint/thumbprints/handprint/handprints/palmprint/palmprints/voiceprint/voiceprints/faceprint/faceprints
term voice print/prints
term my/his/her/their fingerprint/fingerprints/face/iris/irises/eyes/retina/voice/palm/palms/hand/hands/veins/gait scan/scans/scanned/template/data/print/prints/recording/recordings/recognition/geometry/biometrics
term scan/scans/scanned/scanning/record/records/recorded/recording/store/stores/stored/storing/keep/keeps/kept/capture/captures/captured/film/filmed/filming/photograph/photographed/map/mapped/collect/collected/collecting my/his/her/their/our face/iris/irises/retina/retinas/fingerprint/fingerprints/voice/palm/palms/veins/handprint/handprints/thumbprint/faces
term take/took/taken/taking my/his/her/their/our fingerprints/fingerprint/handprint/thumbprint
term scan/scans/scanned/scanning/read/reads (of) my/his/her face/iris/retina/palm/hand/thumb/finger/fingers/veins/handprint
term face/facial/iris/retina/retinal/palm/vein/voice/gait/hand/finger/fingerprint recognition/scan/scans/scanning/scanner/template/templates/geometry/mapping/biometrics/data/matching/verification/authentication/print
term facial features/feature
term palm/palms/hand scanned
term my palm/palms/face/iris/fingerprint/fingerprints scanned/taken/recorded/stored
term liveness check/checks/test/detection
term selfie video/videos/check/verification
term video selfie/selfies
term biometric/biometrics
term biometric data/information/details/scan/scans/check/checks/verification/authentication/login/template/templates/profile/identification/id
term dna | self
term dna test/tests/testing/kit/kits/sample/samples/results/result/report/profile/data/file/analysis/sequencing/match/ancestry
term genetic/genetics test/tests/testing/screening/results/result/report/reports/data/information/analysis/profile/counselling/counseling/condition/disorder/marker/markers/risk/variant/variants/mutation/mutations/sequencing/ancestry/makeup
term genome/genomes/genomic/genotype/genotyping/exome/karyotype/karyotyping
term whole genome
term genome sequencing
term saliva sample/samples/kit/test/swab
term cheek swab/swabs
term paternity/maternity/ancestry/sibling/relationship/carrier test/tests/testing/result/results
term carrier for/of
term carrier status/screening
term =BRCA/=BRCA1/=BRCA2/=HFE/=MTHFR/=APOE/=APOE4 (gene/mutation/variant/carrier/positive/test/status)
term gene/genes mutation/mutations/variant/variants/test/testing
term 23andme/ancestrydna/familytreedna
term myheritage dna
term ancestry dna/kit/test/results

# Devices and products; figurative and non-personal uses.
not face/touch/voice id
not face unlock/recognition on the/my/your phone/laptop/iphone/ipad
not fingerprint/fingerprints sensor/sensors/reader/readers/scanner/scanners/button/unlock/lock/login/resistant/proof/smudge/smudges/marks/magnet
not fingerprint/fingerprints on the/my/your screen/glass/lens/case/window/door/display/surface/finish
not covered in/with fingerprints
not full of fingerprints
not anti-fingerprint/anti fingerprint
not browser/device/key/digital/ssh/tls/ssl/certificate fingerprint/fingerprints
not fingerprint of the key/certificate
not carbon footprint
not in/of our/its/their/the dna
not part of our/the dna
not brand/company/team/house dna
not dna of the/this/our/your brand/company/product/range
not my face/hands/skin cream/wash/mask/serum/moisturiser/moisturizer/towel/cloth
not hand/face/palm scan/scanner barcode/code
not scan my card/ticket/code/barcode/qr/receipt/passport/id/document/documents/licence/license
not record my order/details/address/number/account/preferences
not voice recognition on/in/for the/my/your tv/car/speaker/remote/app/phone/assistant/alexa/device
not voice control/assistant/assistants/command/commands/message/messages/mail/note/notes/memo
not facial cream/cleanser/wash/mask/serum/oil/mist/scrub/treatment/massage/hair/tissue/tissues/roller
not palm oil/tree/trees/springs/beach/sunday
not hand wash/cream/soap/towel/towels/luggage/made/held/written
not biometric passport/passports/residence/permit/card
not retina display/screen/displays
not face cream/mask/wash/serum/oil/mist/scrub/cloth/towel/paint/masks/shield/covering
not gait trainer
