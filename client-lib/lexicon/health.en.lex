# Health (GDPR art. 9): conditions, diagnoses and their abbreviations,
# medicines and treatments, pregnancy, disability, care, absence through
# illness. English.

# Conditions, named.
term diabetes/diabetic/diabetics
term type 1/2/one/two diabetes/diabetic
term diagnosed with/as
term diagnosis | self
term prediabetic/prediabetes
term pre-diabetic
term cancer/cancers | conf=85
term leukaemia/leukemia/lymphoma/melanoma/myeloma/sarcoma/carcinoma/mesothelioma
term tumour/tumor/tumours/tumors
term chemo/chemotherapy/radiotherapy/immunotherapy/radiation-therapy
term oncology/oncologist
term asthma/asthmatic
term epilepsy/epileptic/seizure/seizures
term migraine/migraines
term arthritis/rheumatoid/osteoarthritis/lupus/fibromyalgia/gout
term chronic fatigue/pain/illness/condition
term =CFS
term have/has/had/with/got/from =MS
term multiple sclerosis
term parkinson/alzheimer/dementia/huntington
term stroke | self
term heart attack/failure/condition/surgery/disease/problem/problems
term angina/arrhythmia/pacemaker
term atrial fibrillation
term =afib | self
term hypertension
term high/low blood pressure | self
term =COPD/emphysema/bronchitis/pneumonia/tuberculosis
term chest infection
term covid/coronavirus | self
term long covid
term flu | self
term shingles/chickenpox/measles/mumps/norovirus/glandular-fever/sepsis
term food poisoning | self
term hepatitis/cirrhosis
term kidney/renal disease/failure/stones/transplant
term liver disease/failure/transplant
term crohn/colitis
term =IBS | self
term coeliac/celiac
term endometriosis/=PCOS/menopause/perimenopause
term miscarriage/miscarriages/stillbirth
term pregnant/pregnancy
term expecting a baby/twins
term morning sickness
term maternity leave/ward
term infertility
term =IVF
term autism/autistic
term =ASD/=ADHD
term dyslexia/dyslexic/dyspraxia/dyspraxic/dyscalculia
term learning disability/disabilities/difficulties
term down syndrome/syndrome
term cerebral palsy
term spina bifida
term muscular dystrophy
term motor neurone/neuron disease
term =ALS/=MND | self
term cystic fibrosis
term sickle cell
term thalassemia/thalassaemia/haemophilia/hemophilia
term =HIV/=AIDS
term =HIV positive/negative/status
term =HIV+
term =STI/=STD | self
term chlamydia/herpes/syphilis/gonorrhoea/gonorrhea
term depression
term depressed | self
term anxiety | self
term anxiety disorder
term panic attack/attacks
term bipolar
term schizophrenia/schizophrenic
term =PTSD/=OCD | self
term eating disorder
term anorexia/anorexic/bulimia/bulimic
term self-harm
term suicidal
term mental health
term nervous breakdown
term burnout
term burn-out
term insomnia | self
term addiction/alcoholic/alcoholism
term @iam (a/an) (recovering) addict
term in recovery | self
term rehab | self
term disabled | self
term disability/disabilities
term blind | self
term partially sighted
term visually/hearing impaired
term deaf | self
term hard of hearing
term wheelchair/wheelchairs
term wheelchair user
term mobility scooter
term paralysed/paralyzed/paraplegic/quadriplegic/amputee
term back injury/problems
term slipped/herniated disc
term sciatica
term broke/broken/fractured my leg/arm/wrist/ankle/hip/foot/hand/back/collarbone/ribs
term broken/fractured leg/arm/wrist/ankle/hip/foot/collarbone | self
term concussion
term in a cast | self
term on crutches
term allergy/allergies | self
term allergic to nuts/peanuts/latex/penicillin/gluten/dairy/eggs/shellfish
term allergic | self
term anaphylaxis/anaphylactic
term lactose intolerant
term gluten intolerance
term eczema/psoriasis
term thyroid | self
term hypothyroidism/hyperthyroidism
term glaucoma/cataract/cataracts
term macular degeneration
term tinnitus/vertigo
term sick | self conf=65
term ill | self conf=65
term unwell | self conf=65
term illness/illnesses
term terminally ill
term my condition
term medical/health condition
term hospital/hospitals/hospitalised/hospitalized/hospitalisation | self
term =A&E
term intensive care
term =ICU | self
term ward | near=@ward_cue
term =GP | self
term doctor/doctors | self conf=60
term cardiologist/neurologist/oncologist/psychiatrist/psychiatric/rheumatologist
term psychologist/therapist/counsellor/counselor | self
term therapy/counselling/counseling | self
term physio/physiotherapy/physiotherapist | self
term surgery | self
term my/his/her =operation/=operations
term had/having/have/has/need/needs/needed/after/before/booked an/my/his/her/the =operation
term recovering/recovery from (an/my/his/her/the) =operation
term operated on
term transplant/bypass/stent/biopsy/amputation
term knee/hip replacement
term mastectomy/hysterectomy/vasectomy/lumpectomy/colonoscopy/endoscopy
term caesarean
term c-section
term dialysis
term stoma/colostomy/ileostomy/catheter
term hearing aid/aids
term cochlear implant
term prosthetic/prosthesis
term insulin
term insulin pump
term glucose monitor/sensor/strips
term blood sugar | self
term blood test/tests/results
term medication/medications/medicine/medicines/meds | self
term on medication
term prescription/prescriptions | self
term pills | near=@dose_cue
term sick leave/note
term off sick
term signed off
term medical leave
term life support
term =HFE gene
term =BRCA/=BRCA1/=BRCA2 (gene/mutation/variant/carrier/positive/test/result/status)
not work/works/worked/working/job/rep/steward/nurse/porter/shift/shifts/cleaner/volunteer at/in the hospital/hospitals/ward/clinic

# Medicines and brand-name drugs people name.
term @medicine

@medicine = metformin/ozempic/wegovy/mounjaro/saxenda/victoza/trulicity/jardiance/gliclazide
@medicine = prozac/sertraline/citalopram/escitalopram/fluoxetine/zoloft/lexapro/mirtazapine/venlafaxine
@medicine = antidepressant/antidepressants
@medicine = anti-depressants
@medicine = xanax/valium/diazepam/lorazepam/alprazolam/clonazepam
@medicine = ritalin/adderall/concerta/methylphenidate/elvanse/vyvanse
@medicine = levothyroxine/warfarin/apixaban/eliquis/rivaroxaban/clopidogrel
@medicine = statins/atorvastatin/simvastatin/amlodipine/ramipril/lisinopril/bisoprolol
@medicine = prednisolone/prednisone/methotrexate/humira/tamoxifen/herceptin/letrozole
@medicine = antibiotic/antibiotics/antivirals/amoxicillin/penicillin/doxycycline
@medicine = truvada/antiretroviral/antiretrovirals
@medicine = morphine/oxycodone/tramadol/codeine/fentanyl/gabapentin/pregabalin/lyrica
@medicine = epipen/epipens/inhaler/inhalers/ventolin/salbutamol/nebuliser/nebulizer

@medicine = hormone therapy/replacement
@medicine = =HRT
@medicine = methadone/buprenorphine/naloxone/antipsychotic/antipsychotics
@medicine = olanzapine/quetiapine/risperidone/aripiprazole/clozapine
@medicine = lamotrigine/levetiracetam/keppra/epilim/valproate/carbamazepine



# Cues for words that are health only in context.
@ward_cue = maternity/oncology/cancer/cardiac/psychiatric/stroke/surgical/hospital
@ward_cue = on the/a
@dose_cue = take/takes/taking/took/on
@dose_cue = my/his/her

# Figurative and non-personal uses.
not sick of/about
not sick and tired
not sick to death
not makes/made/make me sick
not this/that/it/which/offer/deal/price/design (is/=s/looks/was) (so/totally/absolutely/proper/well/pretty) sick
not sick deal/deals/offer/price/design/colour/color/look/shoes/trainers/car/beat/track
not @give_me a heart attack
not @give_me a stroke/migraine/headache
not nearly/almost/practically/basically had/have a heart attack
not nearly/almost/practically/basically had/have a stroke
not heart attack when i/we saw
not stroke when i/we saw
not am/are/is i/you blind
not blind spot/spots/test/tests/date
not roller/window/venetian/vertical blind/blinds
not blind/blinds for the window
not =depressing
not friday/shopping/shoe/coffee/chocolate/tv/netflix/gym/sale/sales/bargain/caffeine/sugar/adrenaline addict/addicts/addiction
not ill fitting/advised/informed/prepared/equipped/timed/suited/mannered
not ill at ease
not =OCD about
not bit/little/so/totally/very =OCD
not prescriptions/prescription tab/page/section/button/menu/screen
not prescription glasses/lenses/sunglasses/goggles/frames
not @iam (a/an) doctor/nurse/gp/physio/physiotherapist/surgeon/paramedic/pharmacist/carer/vet/dentist/midwife
not doctor who/strange
not hospital pass
not flu-like
not cancer research
not surgery hours/opening
not doctor/gp/dentist (=s) office/surgery/practice
not @landmark (the/my/your/our) doctor/gp/dentist/hospital/surgery/clinic/pharmacy
not diabetes/cancer/heart/asthma/alzheimer/parkinson/dementia charity/charities/research/awareness/foundation/fundraiser/appeal
not alzheimer/parkinson =s charity/charities/research/awareness/foundation/fundraiser/appeal
not mental health charity/charities/awareness/week/day/month
not diabetic friendly/socks/chocolate/recipes
not allergic to paperwork/mondays/waiting/queues
not stroke of luck/genius
not brush stroke/strokes
not heat stroke
not disabled account/button/link/feature/option/cookies/javascript/card/notifications/by
not account/card/feature/option/button/cookies/notifications/javascript/payment/login/profile/access/it (is/was/has/got/gets/been) (been) disabled
not disabled (the/my/your) account/card/notifications/option

@give_me = give/gives/gave/giving/given me
@give_me = give/gives/gave/giving/given my (mum/dad/wife/husband)
@give_me = nearly/almost/practically gave/give me

@landmark = next to
@landmark = opposite/near/beside/behind
@landmark = across from
@landmark = in front of
@landmark = leave/drop/deliver it at/to/with
@landmark = drop it off at

# Pets, plants and charities: another's illness, not a person's.
unless dog/dogs/puppy/puppies/cat/cats/kitten/kittens/pet/pets/horse/horses/rabbit/hamster/parrot/budgie/guinea-pig
unless vet/vets/veterinary/veterinarian
unless plant/plants/tree/trees/=leaves/lawn/hedge
unless tomato/tomatoes/roses/orchid/orchids
term steroids/antihistamines/painkillers | self

# More conditions, treatments and care people mention.
term bad back | self
term immunocompromised/immunosuppressed/autoimmune
term clinic | near=@clinic_cue
term memory/fertility/pain/cancer/diabetes/sexual-health/mental-health/psychiatric clinic
term hay fever
term hearing/sight/vision/memory loss | self
term osteoporosis/anaemia/anemia/incontinence/psychosis/neuropathy/scoliosis/spondylitis
term fertility treatment/treatments
term miscarried
term cholesterol | self
term bariatric surgery
term gastric band/bypass/sleeve
term sleep apnoea/apnea
term =CPAP
term ostomy
term long-term/chronic/serious/terminal condition/illness/disease
term mental illness
term hospice/palliative care
term hospice | self
term carer/caregiver | near=@carer_cue
term i =m/am expecting | conf=75
term due date | self
term my blood pressure/sugar/levels
term i =m/am recovering from
term recovering from (a/an/my/the) surgery/operation/illness/infection/stroke/heart attack/injury/accident/fall
term had a fall | self
term concussed/sprained/fractured | self
term in plaster

@clinic_cue = my/his/her/our/the/at/to
@carer_cue = my/his/her/i/am/i'm/as/full-time

not clinic hours/times
not beauty/skin/dental/aesthetic/laser/pet/vet/tax/legal/car clinic
not hay fever season sale/sales/offer/offers
