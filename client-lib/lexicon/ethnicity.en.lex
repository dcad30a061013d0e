# Racial or ethnic origin (GDPR art. 9): self-identification by people,
# ethnic group or heritage, skin colour used of a person, mixed heritage,
# ancestry percentages, origin as a reason for treatment. English.

# Peoples, ethnic groups and origins a person may say they are of. The
# nationalities of the brand's main markets are left out: "I'm French"
# says where someone lives or holds a passport more often than an origin.
@people = african/africans/afro-caribbean/caribbean/caribbeans/jamaican/jamaicans/trinidadian/barbadian/bajan/haitian/haitians/somali/somalis/ethiopian/eritrean/nigerian/nigerians/ghanaian/senegalese/malian/congolese/cameroonian/ivorian/kenyan/ugandan/zimbabwean/sudanese/yoruba/igbo/hausa/fulani/wolof/zulu/xhosa/amhara/oromo/tigrayan/maasai/ashanti
@people = arab/arabs/berber/berbers/amazigh/kurd/kurds/kurdish/turkish/turk/turks/armenian/armenians/assyrian/persian/iranian/afghan/afghans/pashtun/tajik/uzbek/uyghur/uighur/tibetan/moroccan/moroccans/algerian/algerians/tunisian/tunisians/egyptian/lebanese/syrian/iraqi/palestinian/yemeni/bedouin/druze/chechen
@people = asian/asians/pakistani/pakistanis/bangladeshi/bangladeshis/indian/indians/bengali/punjabi/gujarati/tamil/tamils/sinhalese/nepali/nepalese/chinese/korean/koreans/japanese/vietnamese/filipino/filipina/filipinos/thai/cambodian/khmer/hmong/laotian/malay/malaysian/indonesian/burmese/mongolian/kashmiri/sikh-punjabi
@people = hispanic/hispanics/latino/latina/latinos/latinas/latinx/latine/chicano/chicana/mexican/mexicans/puerto-rican/dominican/cuban/colombian/peruvian/salvadoran/guatemalan/brazilian/venezuelan
@people = black/brown
@people = roma/romani/romany/gypsy/gypsies/traveller/travellers/sinti/yenish
@people = maori/inuit/sami/aboriginal/aborigine/indigenous/metis
@people = pacific islander/islanders
@people = torres strait islander
@people = native american/americans/hawaiian/alaskan
@people = first nations
@people = african american/americans
@people = african-american/african-americans
@people = afro-american/afro-americans
@people = asian american/americans
@people = south/east/southeast/south-east/west/central asian
@people = west/east/north/south/central/sub-saharan african
@people = north/south/central/latin american
@people = middle eastern
@people = black/british/caribbean british
@people = british asian/indian/pakistani/bangladeshi/chinese/caribbean
@people = irish traveller/travellers
@people = mixed race/heritage/ethnicity/background
@people = mixed-race
@people = biracial/multiracial/multi-racial/bi-racial

# Words for an origin.
@origin_word = heritage/descent/origin/origins/ancestry/ancestors/background/roots/extraction/ethnicity/blood

term @iam (a/an) (@keen) (half/part/quarter/fully/full/mixed/100/100%) @people
term @iam (a/an) @people @person_noun
term @people @person_noun
term @iam mixed
term i =m/am mixed | conf=80
term @people @origin_word
term of @people @origin_word
term half/quarter/part @people | self
term # (%/percent/per-cent) @people
term @people roots/blood/ancestry/heritage/dna
term ethnic/ethnicity/ethnically | self
term ethnic minority/minorities/origin/origins/background/group/groups/heritage/identity
term =BAME/=BIPOC/=POC
term person/people/woman/women/man/men of colour/color
term mixed race/heritage/ethnicity
term mixed-race
term biracial/multiracial
term @skin_adj skinned
term dark/darker/brown/black/light-brown/olive skin | self
term skin colour/color/tone | near=@skin_cue
term colour/color of my/his/her/their skin
term my race/ethnicity/origins/heritage
term because of my race/colour/color/ethnicity/origin/accent/name/skin
term racial/race profiling
term racially profiled/abused
term race/racial discrimination
term my ancestors/ancestry were/was/came/come from
term roma/romani/sinti/romany | self
term maori/inuit/aboriginal | self
term hispanic/latino/latina/latinx/latine | self
term african/asian/arab/berber/kurdish/tamil/somali/indigenous | near=@iam_near
term dna test/results/says/said/shows/showed (i) (=m/am) # (%/percent) @people
term dna/ancestry (test/results) ... # (%/percent)

@skin_adj = dark/darker/brown/black/light/lighter/fair/olive/pale/deep
@skin_cue = my/his/her/their/because/people/person/woman/man/of/about
@iam_near = @iam
@iam_near = i/we
@iam_near = my/our family/parents/mum/mom/dad/father/mother/grandparents/ancestors

# Products, food, places, languages and the colour of things.
not @people @thing
not @people new year/years
not black friday
not black and white
not black/brown/white tea/coffee/rice/bread/sugar/belt/eye/market/hole/box/out/mail/list/magic/humour/humor/pudding
not black/brown/dark/olive/deep/light/pale/fair colour/color/shade/one/version/model/finish/leather/wood/dress/jacket/shoes/boots/bag/case/frame/strap/coat/top/shirt/jeans/trousers/hair
not in/speak/speaks/spoke/speaking/learn/learning/translate/translated/translation/subtitles/subtitled/dubbed/read/write/writing/fluent @people
not @people language/translation/version/subtitles/speaker/speakers/keyboard/characters/alphabet/script
not asian/african/mexican/indian/chinese/japanese/korean/thai/vietnamese/lebanese/turkish/moroccan/caribbean/jamaican/cuban/peruvian/brazilian/ethiopian/arab/persian/middle-eastern/south/east/west/north cuisine/food/restaurant/restaurants/takeaway/shop/store/supermarket/grocer/grocery/market/spices/recipe/recipes/dish/dishes/cooking/cookery/rice/noodles/tea/coffee/print/prints/style/pattern/patterns/design/designs/fabric/rug/rugs/art/music/film/films/cinema/dance/festival/market
not indian ocean/summer/rupee/rupees/railways/visa
not turkish delight/airlines/bath/lira
not chinese new year
not lunar new year
not native speaker
not indigenous plants/species/trees/wildlife
not traveller/travellers insurance/bag/cheque/cheques/points/card/account/rewards/review/reviews/pack
not frequent/business/solo/budget traveller/travellers
not gypsy skirt/dress/style/top/jazz/wagon
not roma tomatoes/tomato/city/stadium/fc/fans/airport/termini
not as roma
not in roma
not skin tone/colour/color matching/match/range/shades/shade/foundation
not for dark/darker/light/fair/pale/olive/deep/brown skin/skinned/skins/tones
not foundation/concealer/cream/powder/tint/shade/shades/plasters for
not skin tone of the doll/figure/character/avatar
not fair-skinned/pale/light skin sunscreen/spf/sun

@thing = cushion/cushions/print/prints/pattern/patterns/fabric/fabrics/rug/rugs/dress/dresses/jacket/shirt/scarf/jewellery/jewelry/art/style/design/designs/decor/furniture/lamp/vase/basket/baskets/tea/coffee/spice/spices/rice/food/cuisine/dish/dishes/restaurant/restaurants/takeaway/shop
@thing = store/market/grocer/supermarket/recipe/recipes/sauce/curry/noodles/dumplings/film/films/music/song/songs/drama/dramas/series/festival/holiday/calendar/zodiac/alphabet/characters/keyboard/layout/edition/version/collection/range/brand/brands/import/imports/imported/made
