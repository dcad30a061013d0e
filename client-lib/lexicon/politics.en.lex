# Political opinions (GDPR art. 9): parties and movements, membership,
# votes, campaigning and activism, petitions and protests, political
# self-descriptions, elected office with a party. English.

# Parties and movements. @party names them in any context; @party_bare
# are the names that stand alone without ambiguity.
@party_bare = tory/tories
@party_bare = lib dem/dems
@party_bare = liberal democrat/democrats
@party_bare = =SNP/=UKIP/=DUP/=SDLP/=GOP/=MAGA/=DSA
@party_bare = plaid cymru
@party_bare = reform uk
@party_bare = sinn féin/fein
@party_bare = fianna fáil/fail
@party_bare = fine gael
@party_bare = green/labour/conservative/democratic/republican/libertarian/communist/socialist/brexit/alliance/alba/independence party
@party_bare = scottish/welsh/irish greens
@party_bare = extinction rebellion
@party_bare = just stop oil
@party_bare = socialist workers
@party_bare = democratic socialists
@party_bare = tea party
@party = @party_bare
@party = labour/conservative/conservatives/green/greens/democrat/democrats/republican/republicans/liberals/libertarians

term @party_bare
term @party member/members/membership/supporter/supporters/voter/voters/activist/activists/campaigner/campaigners/councillor/councillors/councilor/candidate/candidates/mp/mps/msp/mla/branch/association/campaign/rally/conference/delegate/volunteer/volunteers/politician/card/donor/leaflets
term member/members/supporter/supporters/activist/activists/volunteer of/for/with the @party
term member/members of @party
term joined the @party
term vote/votes/voted/voting/voter (for) (the) @party
term campaign/campaigns/campaigned/campaigning/canvass/canvassed/canvassing/leaflet/leafleted/leafleting/volunteered/volunteering/fundraising/stood/ran/standing/running for/with (the) @party
term knocked on doors for/with (the) @party
term councillor/councilor/mayor/mp/senator/congressman/congresswoman/representative for/with (the) @party
term as a/an @party_person
term @iam (a/an) (@keen) @party_person

@party_person = labour/tory/conservative/green/democrat/republican/libertarian/socialist/communist/liberal/progressive/leftie/lefty/centrist/nationalist/unionist/loyalist/monarchist/royalist/republican/anarchist/marxist/trotskyist/=brexiteer/remainer/leaver
@party_person = lib dem
@party_person = labour/tory/conservative/green/snp/reform/democrat/republican voter/supporter/member/activist/councillor/councilor
@party_person = card-carrying member

# Candidates and leaders, in a vote or a campaign.
@politician = trump/biden/harris/obama/clinton/sanders/bernie/desantis/haley/vance/walz/starmer/sunak/corbyn/farage/badenoch/truss/blair/thatcher/boris/macron/melenchon/meloni
term @politician campaign/campaigns/supporter/supporters/voter/voters/rally/rallies/fan/fans/volunteer/volunteers
term vote/votes/voted/voting for @politician
term campaigned/canvassed/volunteered/worked for @politician

# Self-descriptions and views.
term monarchist/monarchists/royalist/royalists/anarchist/anarchists/communist/communists/marxist/marxists/trotskyist/trotskyists/=brexiteer/=brexiteers/remainer/remainers/corbynista/blairite/thatcherite/trumpist/maga
term socialist/socialists/libertarian/libertarians/centrist/nationalist/unionist/loyalist/leftie/lefty/progressive/liberal/conservative/republican/democrat/environmentalist | self
term left/right wing
term left/right winger/wingers
term far/hard left/right
term centre/center left/right | self
term pro-life | self
term pro-choice | self
term party member/members/membership
term political views/opinions/beliefs/affiliation/affiliations/leanings/activism/activist/party
term political/climate/environmental/peace activist/activists/campaigner
term animal/human rights activist/activists/campaigner
term anti-war activist/activists/campaigner
term my politics
term i voted leave/remain
term voted/vote leave/remain
term voted/vote for brexit
term voted/vote yes/no in/on the referendum
term signed/sign/signing (the/a/this/that/our) petition/petitions
term petition/petitions against/to stop/to save/for
term started/launched a petition
term marched/march/marching/protested/protesting/demonstrated/demonstrating/rallied against/for | self
term joined/join the march/protest/protests/demonstration/rally/picket/marches | self
term on the march/picket-line | self
term at the protest/march/demonstration/rally | self
term against the pension/pensions/budget/government/war/reform | self
term black lives matter
term =BLM | self
term antifa/antifascist/antifascists
term anti-fascist
term zionist | self
term anti-zionist | self

# Everyday words.
not labour day/costs/cost/market/ward/pains/pain/charge/charges/hours/shortage
not in labour
not went into labour
not conservative estimate/estimates/guess/figure/approach/side/cut/style/colour/color
not liberal use/amount/amounts/helping/dose/arts
not liberal with
not green light/tea/colour/color/jacket/dress/shirt/top/bag/version/option/choice/packaging/energy/card/box/button/tick
not the green one
not go/went/gone/going green
not reform of/to the return/refund/delivery
not progressive lenses/glasses/web/jackpot/rollout
not right wing mirror
not left/right wing of the plane/building/car/bird
not a/an green/conservative/liberal/progressive/democratic alternative/option/choice/estimate/product/measure/gift/look
not march/marched/marching #
not march 1st/2nd/3rd
not in/on/by/from/since/until/till/before/after/early/late/mid/end of/next/last march
not the march issue/edition/sale/order/catalogue/collection
not the union jack
not monarchist/royalist ceramics/style/furniture
